package bootstrap

import (
	"fmt"
	"maps"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	rbacconfigv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	dfpclusterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/clusters/dynamic_forward_proxy/v3"
	dfpcommonv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/common/dynamic_forward_proxy/v3"
	setfilterstatev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/common/set_filter_state/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	tlsinspectorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/tls_inspector/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	setfilterstatenetv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/set_filter_state/v3"
	snidfpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/sni_dynamic_forward_proxy/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/planeless/planeless/proxy"
)

// The allow-list (planeless.dev/egress-policy: allow-list). Envoy picks a
// listener's filter chain by destination port, then destination address,
// then server name, transport and application protocol, and never goes
// back a level (tried on Envoy 1.40: a chain for one port takes every
// connection to that port, a chain for a range every connection to it).
// So the chains are laid out by address only:
//
//   - loopback: refused (selfChains), as in open mode;
//   - the allowed ranges (planeless.dev/egress-allow, the operator's): HTTP
//     as in open mode, to the address the application dialled; any other
//     TCP passed through. A range allowed on some ports only passes its
//     connections to a cluster named after the dialled port, which exists
//     for the allowed ports only (Envoy closes the others: no cluster), and
//     refuses its HTTP requests to other ports with an RBAC check of the
//     dialled port;
//   - anywhere else: HTTP by Host (the allowed names and the cluster's
//     Services, resolved by Envoy, so a request to another address with an
//     allowed Host reaches the allowed name, not that address; anything
//     else 403), TLS by server name (resolved by Envoy alike; anything else
//     closed), and every other connection closed.
const (
	// egressHTTPCluster is a forward proxy resolving the Host of requests
	// to allowed names, and egressTLSCluster one resolving the server name
	// of TLS to allowed names.
	egressHTTPCluster = "egress|http"
	egressTLSCluster  = "egress|tls"
	egressTLSCache    = "egress_tls"

	tlsInspectorName          = "envoy.filters.listener.tls_inspector"
	setFilterStateNetworkName = "envoy.filters.network.set_filter_state"
	sniDFPName                = "envoy.filters.network.sni_dynamic_forward_proxy"
	rbacName                  = "envoy.filters.http.rbac"
	tcpProxyClusterKey        = "envoy.tcp_proxy.cluster"

	// EgressRefusedBody starts the body of a refused HTTP request.
	EgressRefusedBody = "planeless: refused by this pod's egress allow-list (" + proxy.Prefix + "egress-policy: allow-list): "
)

// allowedGroup is a set of allowed ranges that allow the same ports.
type allowedGroup struct {
	ranges []netip.Prefix
	// ports are the allowed ports; nil allows every port.
	ports []uint16
}

// allowedGroups groups the distinct allowed ranges by the ports allowed to
// each: a range allows the ports of every entry that contains it, so that
// the most specific range, which Envoy picks, allows what all of them do.
func allowedGroups(s *proxy.Spec) []allowedGroup {
	var cidrs []proxy.AllowedCIDR
	for _, c := range s.Policy.Egress.CIDRs {
		if c.Prefix.Addr().Is4() || s.IPv6 {
			cidrs = append(cidrs, c)
		}
	}
	byKey := map[string]*allowedGroup{}
	var keys []string
	seen := map[netip.Prefix]bool{}
	for _, c := range cidrs {
		x := c.Prefix
		if seen[x] {
			continue
		}
		seen[x] = true
		anyPort, ports := false, []uint16{}
		for _, e := range cidrs {
			if e.Prefix.Bits() <= x.Bits() && e.Prefix.Contains(x.Addr()) {
				if e.Port == 0 {
					anyPort = true
				} else if !slices.Contains(ports, e.Port) {
					ports = append(ports, e.Port)
				}
			}
		}
		key := "any"
		if !anyPort {
			slices.Sort(ports)
			key = fmt.Sprint(ports)
		} else {
			ports = nil
		}
		g, ok := byKey[key]
		if !ok {
			g = &allowedGroup{ports: ports}
			byKey[key] = g
			keys = append(keys, key)
		}
		g.ranges = append(g.ranges, x)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if (a == "any") != (b == "any") {
			if a == "any" {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	groups := make([]allowedGroup, len(keys))
	for i, k := range keys {
		groups[i] = *byKey[k]
		slices.SortFunc(groups[i].ranges, func(a, b netip.Prefix) int {
			if c := a.Addr().Compare(b.Addr()); c != 0 {
				return c
			}
			return a.Bits() - b.Bits()
		})
	}
	return groups
}

func cidrRange(p netip.Prefix) *corev3.CidrRange {
	return &corev3.CidrRange{AddressPrefix: p.Addr().String(), PrefixLen: wrapperspb.UInt32(uint32(p.Bits()))}
}

// allowListListener is the outbound listener in allow-list mode.
func (p *packer) allowListListener(s *proxy.Spec) *listenerv3.Listener {
	groups := allowedGroups(s)
	var v4, v6 []*corev3.CidrRange
	for _, g := range groups {
		for _, r := range g.ranges {
			if r.Addr().Is4() {
				v4 = append(v4, cidrRange(r))
			} else {
				v6 = append(v6, cidrRange(r))
			}
		}
	}
	chains := p.selfChains(s)
	check := p.portCheck(groups)
	if len(v4) > 0 {
		chains = append(chains, p.outboundHTTPChain("allowed|http", v4,
			p.allowedHCM(s, outboundHTTPCluster, check, p.pinToOriginalDestination(), p.forwardProxy())))
	}
	if len(v6) > 0 {
		chains = append(chains, p.outboundHTTPChain("allowed|http6", v6, p.allowedHCM(s, outboundHTTP6Cluster, check)))
	}
	for i, g := range groups {
		chains = append(chains, p.allowedTCPChain(s, i, g))
	}
	chains = append(chains, p.outboundHTTPChain("egress|http", nil, p.egressHCM(s)))
	chains = append(chains, p.egressTLSChains(s)...)
	chains = append(chains, p.refusedChain(s, "refused|tls", &listenerv3.FilterChainMatch{TransportProtocol: "tls"}, refusedTLS))

	opaque := inPortRanges(s.OpaquePorts)
	l := &listenerv3.Listener{
		Name:             outboundListenerName,
		TrafficDirection: corev3.TrafficDirection_OUTBOUND,
		ListenerFilters: []*listenerv3.ListenerFilter{
			p.originalDst(),
			{
				Name:           tlsInspectorName,
				ConfigType:     &listenerv3.ListenerFilter_TypedConfig{TypedConfig: p.pack(&tlsinspectorv3.TlsInspector{})},
				FilterDisabled: opaque,
			},
			p.httpInspector(opaque),
		},
		ListenerFiltersTimeout:           durationpb.New(sniffTimeout),
		ContinueOnListenerFiltersTimeout: true,
		FilterChains:                     chains,
		DefaultFilterChain:               p.refusedChain(s, "refused", nil, refusedTCP),
	}
	bind(l, s.IPv6, loopbackV4, loopbackV6, s.Proxy.Ports.Outbound)
	return l
}

// portCheck is the RBAC policy of HTTP requests to the allowed ranges: the
// dialled port must be one the range allows. nil when every range allows
// every port.
func (p *packer) portCheck(groups []allowedGroup) *rbacv3.RBACPerRoute {
	var rules []*rbacconfigv3.Permission
	restricted := false
	for _, g := range groups {
		var ips []*rbacconfigv3.Permission
		for _, r := range g.ranges {
			ips = append(ips, &rbacconfigv3.Permission{Rule: &rbacconfigv3.Permission_DestinationIp{DestinationIp: cidrRange(r)}})
		}
		rule := orRules(ips)
		if g.ports != nil {
			restricted = true
			var ports []*rbacconfigv3.Permission
			for _, port := range g.ports {
				ports = append(ports, &rbacconfigv3.Permission{Rule: &rbacconfigv3.Permission_DestinationPort{DestinationPort: uint32(port)}})
			}
			rule = &rbacconfigv3.Permission{Rule: &rbacconfigv3.Permission_AndRules{AndRules: &rbacconfigv3.Permission_Set{
				Rules: []*rbacconfigv3.Permission{rule, orRules(ports)},
			}}}
		}
		rules = append(rules, rule)
	}
	if !restricted {
		return nil
	}
	return &rbacv3.RBACPerRoute{Rbac: &rbacv3.RBAC{Rules: &rbacconfigv3.RBAC{
		Action: rbacconfigv3.RBAC_ALLOW,
		Policies: map[string]*rbacconfigv3.Policy{"egress-allow": {
			Permissions: []*rbacconfigv3.Permission{orRules(rules)},
			Principals:  []*rbacconfigv3.Principal{{Identifier: &rbacconfigv3.Principal_Any{Any: true}}},
		}},
	}}}
}

func orRules(rules []*rbacconfigv3.Permission) *rbacconfigv3.Permission {
	if len(rules) == 1 {
		return rules[0]
	}
	return &rbacconfigv3.Permission{Rule: &rbacconfigv3.Permission_OrRules{OrRules: &rbacconfigv3.Permission_Set{Rules: rules}}}
}

// allowedHCM is the connection manager of HTTP to the allowed ranges: the
// named destinations, then the address the application dialled (checked
// against the allowed ports by check, when not nil).
func (p *packer) allowedHCM(s *proxy.Spec, cluster string, check *rbacv3.RBACPerRoute, filters ...*hcmv3.HttpFilter) *hcmv3.HttpConnectionManager {
	dialled := dialledHost(s, cluster)
	if check == nil {
		return p.outboundHCM(s, dialled, filters...)
	}
	for _, r := range dialled.Routes {
		r.TypedPerFilterConfig = map[string]*anypb.Any{rbacName: p.pack(check)}
	}
	// The RBAC filter checks nothing but where a route configures it.
	filters = append(filters, &hcmv3.HttpFilter{
		Name:       rbacName,
		ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: p.pack(&rbacv3.RBAC{})},
	})
	hcm := p.outboundHCM(s, dialled, filters...)
	// Envoy answers nothing else locally with 403 on this chain.
	hcm.LocalReplyConfig = refusedReply(&accesslogv3.AccessLogFilter{FilterSpecifier: &accesslogv3.AccessLogFilter_StatusCodeFilter{
		StatusCodeFilter: &accesslogv3.StatusCodeFilter{Comparison: &accesslogv3.ComparisonFilter{
			Op:    accesslogv3.ComparisonFilter_EQ,
			Value: &corev3.RuntimeUInt32{DefaultValue: EgressRefusedStatus, RuntimeKey: "planeless.egress_refused_status"},
		}},
	}}, "%DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT% is allowed on other ports only; see "+proxy.Prefix+"egress-allow\n")
	hcm.AccessLog = append(hcm.AccessLog, p.refusalLogs(s, refusedHTTP, rbacDenied())...)
	return hcm
}

// rbacDenied picks the requests the RBAC filter refused.
func rbacDenied() *accesslogv3.AccessLogFilter {
	return &accesslogv3.AccessLogFilter{FilterSpecifier: &accesslogv3.AccessLogFilter_MetadataFilter{MetadataFilter: &accesslogv3.MetadataFilter{
		Matcher: &matcherv3.MetadataMatcher{
			Filter: rbacName,
			Path:   []*matcherv3.MetadataMatcher_PathSegment{{Segment: &matcherv3.MetadataMatcher_PathSegment_Key{Key: "enforced_engine_result"}}},
			Value:  &matcherv3.ValueMatcher{MatchPattern: &matcherv3.ValueMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: "denied"}}}},
		},
		MatchIfKeyNotFound: wrapperspb.Bool(false),
	}}}
}

// refusedReply turns the local replies filter picks into a 403 whose body
// says which annotation refused the request.
func refusedReply(filter *accesslogv3.AccessLogFilter, why string) *hcmv3.LocalReplyConfig {
	return &hcmv3.LocalReplyConfig{Mappers: []*hcmv3.ResponseMapper{{
		Filter:     filter,
		StatusCode: wrapperspb.UInt32(EgressRefusedStatus),
		BodyFormatOverride: &corev3.SubstitutionFormatString{Format: &corev3.SubstitutionFormatString_TextFormatSource{
			TextFormatSource: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: EgressRefusedBody + why}},
		}},
	}}}
}

// egressHCM is the connection manager of HTTP to any other address: the
// named destinations, then the allowed names and the cluster's Services by
// Host, resolved by Envoy; any other request has no route and is refused.
func (p *packer) egressHCM(s *proxy.Spec) *hcmv3.HttpConnectionManager {
	byHost := &routev3.VirtualHost{Name: "egress-allow", Domains: []string{"*"}}
	for _, pattern := range allowedHostPatterns(s) {
		byHost.Routes = append(byHost.Routes, &routev3.Route{
			Name: pattern.name,
			Match: &routev3.RouteMatch{
				PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"},
				Headers: []*routev3.HeaderMatcher{{
					Name: ":authority",
					HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{
						MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: pattern.regex}},
					}},
				}},
			},
			Action: &routev3.Route_Route{Route: &routev3.RouteAction{
				ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: egressHTTPCluster},
				Timeout:          durationpb.New(routeTimeout(s)),
			}},
		})
	}
	hcm := p.outboundHCM(s, byHost, p.forwardProxy())
	hcm.LocalReplyConfig = refusedReply(withFlag("NR"), "%REQ(:AUTHORITY):256% is not allowed; see "+proxy.Prefix+"egress-allow\n")
	hcm.AccessLog = append(hcm.AccessLog, p.refusalLogs(s, refusedHost, withFlag("NR"))...)
	return hcm
}

// hostPattern is an allowed Host as a regular expression on :authority.
type hostPattern struct{ name, regex string }

// label is one DNS label.
const label = `[a-z0-9]([-a-z0-9]*[a-z0-9])?`

// allowedHostPatterns returns the pod's allowed names, then the cluster's
// Services: *.svc.<cluster domain>, *.svc and short names, on any port.
func allowedHostPatterns(s *proxy.Spec) []hostPattern {
	port := func(p uint16) string {
		switch p {
		case 0:
			return `(:[0-9]+)?`
		case 80:
			return `(:80)?`
		}
		return ":" + strconv.Itoa(int(p))
	}
	pattern := func(n proxy.AllowedName) hostPattern {
		name := regexp.QuoteMeta(n.Name)
		if n.Wildcard {
			name = `(` + label + `\.)+` + name
		}
		return hostPattern{name: "egress-allow|" + n.String(), regex: `(?i)^` + name + port(n.Port) + `$`}
	}
	var out []hostPattern
	for _, n := range s.Policy.Egress.Names {
		out = append(out, pattern(n))
	}
	for _, n := range clusterNames(s) {
		p := pattern(n)
		p.name = "cluster|" + n.String()
		out = append(out, p)
	}
	return append(out, hostPattern{name: "cluster|short names", regex: `(?i)^` + label + port(0) + `$`})
}

// clusterNames are the cluster's Services, allowed to every pod.
func clusterNames(s *proxy.Spec) []proxy.AllowedName {
	return []proxy.AllowedName{{Name: "svc." + s.ClusterDomain, Wildcard: true}, {Name: "svc", Wildcard: true}}
}

// egressTLSChains let TLS with an allowed server name through to that
// name, resolved by Envoy, on the dialled port or on the port the entry
// names: one chain per port.
func (p *packer) egressTLSChains(s *proxy.Spec) []*listenerv3.FilterChain {
	byPort := map[uint16][]string{}
	anyPort := map[string]bool{}
	add := func(n proxy.AllowedName) {
		name := n.Name
		if n.Wildcard {
			name = "*." + name
		}
		if n.Port == 0 {
			anyPort[name] = true
		}
		if !slices.Contains(byPort[n.Port], name) {
			byPort[n.Port] = append(byPort[n.Port], name)
		}
	}
	for _, n := range clusterNames(s) {
		add(n)
	}
	for _, n := range s.Policy.Egress.Names {
		add(n)
	}
	var chains []*listenerv3.FilterChain
	for _, port := range slices.Sorted(maps.Keys(byPort)) {
		names := byPort[port]
		if port != 0 {
			// A name allowed on every port has its chain already.
			names = slices.DeleteFunc(slices.Clone(names), func(n string) bool { return anyPort[n] })
		}
		if len(names) == 0 {
			continue
		}
		slices.Sort(names)
		upstreamPort, name := "%DOWNSTREAM_LOCAL_PORT%", "egress|tls"
		if port != 0 {
			upstreamPort, name = strconv.Itoa(int(port)), fmt.Sprintf("egress|tls|%d", port)
		}
		chains = append(chains, &listenerv3.FilterChain{
			Name:             name,
			FilterChainMatch: &listenerv3.FilterChainMatch{TransportProtocol: "tls", ServerNames: names},
			Filters: []*listenerv3.Filter{
				p.networkFilter(setFilterStateNetworkName, &setfilterstatenetv3.Config{OnNewConnection: []*setfilterstatev3.FilterStateValue{
					filterState(dynamicPortKey, upstreamPort),
				}}),
				p.networkFilter(sniDFPName, &snidfpv3.FilterConfig{
					DnsCacheConfig: p.egressTLSCache(s),
					PortSpecifier:  &snidfpv3.FilterConfig_PortValue{PortValue: 443},
				}),
				p.tcpProxy("outbound_egress_tls", egressTLSCluster),
			},
		})
	}
	return chains
}

// filterState sets key to format, a substitution format string.
func filterState(key, format string) *setfilterstatev3.FilterStateValue {
	return &setfilterstatev3.FilterStateValue{
		Key: &setfilterstatev3.FilterStateValue_ObjectKey{ObjectKey: key},
		Value: &setfilterstatev3.FilterStateValue_FormatString{FormatString: &corev3.SubstitutionFormatString{
			Format: &corev3.SubstitutionFormatString_TextFormatSource{TextFormatSource: &corev3.DataSource{
				Specifier: &corev3.DataSource_InlineString{InlineString: format},
			}},
		}},
	}
}

// egressTLSCache is the DNS cache the TLS forward proxy's filter and
// cluster share (Envoy requires the same config on both).
func (p *packer) egressTLSCache(s *proxy.Spec) *dfpcommonv3.DnsCacheConfig {
	return &dfpcommonv3.DnsCacheConfig{
		Name:                   egressTLSCache,
		DnsLookupFamily:        dnsLookupFamily,
		TypedDnsResolverConfig: p.dnsResolver(),
		MaxHosts:               wrapperspb.UInt32(MaxDestinations),
		HostTtl:                durationpb.New(DestinationTTL),
	}
}

// allowedTCPChain passes the connections to a group of allowed ranges
// through to the dialled address, on the allowed ports only.
func (p *packer) allowedTCPChain(s *proxy.Spec, i int, g allowedGroup) *listenerv3.FilterChain {
	chain := &listenerv3.FilterChain{Name: fmt.Sprintf("allowed|%d", i), FilterChainMatch: &listenerv3.FilterChainMatch{}}
	for _, r := range g.ranges {
		chain.FilterChainMatch.PrefixRanges = append(chain.FilterChainMatch.PrefixRanges, cidrRange(r))
	}
	if g.ports == nil {
		chain.Filters = []*listenerv3.Filter{p.tcpProxy(string(outbound)+"_passthrough", outboundPassthroughCluster)}
		return chain
	}
	// The cluster named after the dialled port exists for allowed ports
	// only; for any other port the TCP proxy finds no cluster and closes.
	chain.Filters = []*listenerv3.Filter{
		p.networkFilter(setFilterStateNetworkName, &setfilterstatenetv3.Config{OnNewConnection: []*setfilterstatev3.FilterStateValue{
			filterState(tcpProxyClusterKey, allowedPortCluster(i, "%DOWNSTREAM_LOCAL_PORT%")),
		}}),
		p.networkFilter(tcpProxyName, &tcpproxyv3.TcpProxy{
			StatPrefix:       string(outbound) + "_allowed_ports",
			ClusterSpecifier: &tcpproxyv3.TcpProxy_Cluster{Cluster: blackHoleClusterName},
			AccessLog:        p.refusalLogs(s, refusedPort, withFlag("NC")),
		}),
	}
	return chain
}

func allowedPortCluster(group int, port string) string {
	return fmt.Sprintf("allowed|%d|%s", group, port)
}

// refusedChain closes its connections, counting and logging each.
func (p *packer) refusedChain(s *proxy.Spec, name string, match *listenerv3.FilterChainMatch, r refusal) *listenerv3.FilterChain {
	return &listenerv3.FilterChain{
		Name:             name,
		FilterChainMatch: match,
		Filters: []*listenerv3.Filter{p.networkFilter(tcpProxyName, &tcpproxyv3.TcpProxy{
			StatPrefix:       string(outbound) + "_refused_" + r.protocol,
			ClusterSpecifier: &tcpproxyv3.TcpProxy_Cluster{Cluster: blackHoleClusterName},
			AccessLog:        p.refusalLogs(s, r, nil),
		})},
	}
}

// egressClusters are the allow-list's clusters: the forward proxies of
// allowed names (HTTP by Host, TLS by server name) and a passthrough per
// allowed port of a range allowed on some ports only.
func (p *packer) egressClusters(s *proxy.Spec) []*clusterv3.Cluster {
	if !s.Egress || s.Policy.Egress.Mode != proxy.EgressAllowList {
		return nil
	}
	http := p.forwardProxyCluster(egressHTTPCluster)
	http.TypedDnsResolverConfig = p.dnsResolver()
	tls := &clusterv3.Cluster{
		Name: egressTLSCluster,
		ClusterDiscoveryType: &clusterv3.Cluster_ClusterType{ClusterType: &clusterv3.Cluster_CustomClusterType{
			Name: dfpClusterType,
			TypedConfig: p.pack(&dfpclusterv3.ClusterConfig{
				ClusterImplementationSpecifier: &dfpclusterv3.ClusterConfig_DnsCacheConfig{DnsCacheConfig: p.egressTLSCache(s)},
			}),
		}},
		LbPolicy:        clusterv3.Cluster_CLUSTER_PROVIDED,
		ConnectTimeout:  durationpb.New(remoteConnectTimeout),
		CircuitBreakers: unlimited(),
	}
	clusters := []*clusterv3.Cluster{http, tls}
	for i, g := range allowedGroups(s) {
		for _, port := range g.ports {
			clusters = append(clusters, passthroughCluster(allowedPortCluster(i, strconv.Itoa(int(port)))))
		}
	}
	return clusters
}
