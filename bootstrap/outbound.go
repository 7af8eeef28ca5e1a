package bootstrap

import (
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	dfpclusterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/clusters/dynamic_forward_proxy/v3"
	setfilterstatev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/common/set_filter_state/v3"
	dfpfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/dynamic_forward_proxy/v3"
	setfilterstatehttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/set_filter_state/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/planeless/planeless/proxy"
)

const (
	outboundListenerName = "outbound"
	// outboundHTTPCluster is the dynamic forward proxy parent cluster. In
	// sub-cluster mode it creates one real cluster per destination the
	// application dialled (named DFPCluster:<ip>:<port>), so every
	// destination gets its own upstream stats.
	outboundHTTPCluster = "outbound|http"
	// outboundHTTP6Cluster connects HTTP to IPv6 destinations to the
	// address the application dialled.
	outboundHTTP6Cluster = "outbound|http6"
	// outboundPassthroughCluster connects non-HTTP traffic to the address
	// the application dialled.
	outboundPassthroughCluster = "outbound|passthrough"

	dfpName            = "envoy.filters.http.dynamic_forward_proxy"
	setFilterStateName = "envoy.filters.http.set_filter_state"
	// dfpClusterType is the custom cluster type of the forward proxy.
	dfpClusterType = "envoy.clusters.dynamic_forward_proxy"

	// The filter state the forward proxy (filter and cluster alike) takes
	// its destination from, before any header.
	dynamicHostKey = "envoy.upstream.dynamic_host"
	dynamicPortKey = "envoy.upstream.dynamic_port"

	// dnsLookupFamily resolves A records first and falls back to AAAA. The
	// forward proxy only ever "resolves" the IP address the application
	// dialled, which needs no DNS; it matters for the tracing collector.
	dnsLookupFamily = clusterv3.Cluster_V4_PREFERRED
	// DestinationTTL drops the sub-cluster (and so the stats) of a
	// destination not called for this long.
	DestinationTTL = 5 * time.Minute
	// MaxDestinations bounds the sub-clusters alive at once, and so the
	// per-destination series of one pod: a request to one more destination
	// while MaxDestinations others were called within DestinationTTL fails
	// with 503. Envoy's own default, written down because docs/metrics.md
	// promises it.
	MaxDestinations = 1024
)

// outboundListener receives the connections iptables redirects from the
// application's outbound traffic. HTTP/1.1 and h2c go through the dynamic
// forward proxy, pinned to the address the application dialled: the Host
// header is forwarded unchanged and may name the destination in metrics,
// but never chooses where the connection goes. Everything else (TLS,
// databases, opaque ports) is passed through to its original destination
// untouched. Connections dialled at the proxy itself are refused. It
// returns nil when egress is off.
func (p *packer) outboundListener(s *proxy.Spec) *listenerv3.Listener {
	if !s.Egress {
		return nil
	}
	if s.Policy.Egress.Mode == proxy.EgressAllowList {
		return p.allowListListener(s)
	}
	var ipv4 []*corev3.CidrRange
	if s.IPv6 {
		// Each family's chain says its range: a chain without one also
		// matches ::/0, and between two matches of the same length Envoy
		// picks either.
		ipv4 = []*corev3.CidrRange{anyIPv4}
	}
	chains := append(p.selfChains(s), p.outboundHTTPChain(outboundHTTPCluster, ipv4,
		p.outboundHCM(s, dialledHost(s, outboundHTTPCluster), p.pinToOriginalDestination(), p.forwardProxy())))
	if s.IPv6 {
		// Envoy 1.40's forward proxy cannot be pinned to an IPv6 address:
		// its filter and its cluster name the sub-cluster of fd00::1 port
		// 80 differently (the cluster reads "fd00::1" as host fd00: port
		// 1), and the request fails with 503 (TestIPv6TrafficThroughBoth-
		// Sidecars). IPv6 destinations go to an original-destination
		// cluster instead: the same dialled address, the same request
		// metrics, but no per-destination cluster stats.
		chains = append(chains, p.outboundHTTPChain(outboundHTTP6Cluster, []*corev3.CidrRange{anyIPv6},
			p.outboundHCM(s, dialledHost(s, outboundHTTP6Cluster))))
	}
	l := &listenerv3.Listener{
		Name:                             outboundListenerName,
		TrafficDirection:                 corev3.TrafficDirection_OUTBOUND,
		ListenerFilters:                  []*listenerv3.ListenerFilter{p.originalDst(), p.httpInspector(inPortRanges(s.OpaquePorts))},
		ListenerFiltersTimeout:           durationpb.New(sniffTimeout),
		ContinueOnListenerFiltersTimeout: true,
		FilterChains:                     chains,
		DefaultFilterChain: &listenerv3.FilterChain{
			Name:    outboundPassthroughCluster,
			Filters: []*listenerv3.Filter{p.tcpProxy(string(outbound)+"_passthrough", outboundPassthroughCluster)},
		},
	}
	bind(l, s.IPv6, loopbackV4, loopbackV6, s.Proxy.Ports.Outbound)
	return l
}

// outboundStatPrefix names the stats of every outbound connection
// manager.
const outboundStatPrefix = string(outbound) + "_http"

// outboundHTTPChain proxies the HTTP requests to the destinations in
// ranges (all when empty) with hcm.
func (p *packer) outboundHTTPChain(name string, ranges []*corev3.CidrRange, hcm *hcmv3.HttpConnectionManager) *listenerv3.FilterChain {
	return &listenerv3.FilterChain{
		Name:             name,
		FilterChainMatch: &listenerv3.FilterChainMatch{PrefixRanges: ranges, ApplicationProtocols: httpProtocols},
		Filters:          []*listenerv3.Filter{p.networkFilter(hcmName, hcm)},
	}
}

// outboundHCM is an outbound connection manager: the destinations
// planeless.dev/routes names first (routes.go), then last, through filters
// and the fault filter when a destination injects faults.
func (p *packer) outboundHCM(s *proxy.Spec, last *routev3.VirtualHost, filters ...*hcmv3.HttpFilter) *hcmv3.HttpConnectionManager {
	vhosts := append(p.destinationHosts(s), last)
	return p.connectionManager(s, outbound, outboundStatPrefix, vhosts, append(filters, p.faultFilter(s)...)...)
}

// dialledHost sends every request to cluster, which connects to the
// address the application dialled.
func dialledHost(s *proxy.Spec, cluster string) *routev3.VirtualHost {
	return anyHost(outboundStatPrefix, grpcRoute(cluster, routeTimeout(s)), restRoute(cluster, routeTimeout(s)))
}

var (
	anyIPv4 = &corev3.CidrRange{AddressPrefix: "0.0.0.0", PrefixLen: wrapperspb.UInt32(0)}
	anyIPv6 = &corev3.CidrRange{AddressPrefix: "::", PrefixLen: wrapperspb.UInt32(0)}
)

// pinToOriginalDestination puts the address and port the application
// dialled (restored by the original_dst listener filter) where the forward
// proxy looks first for its destination. The Host header no longer
// decides anything: `Host: 127.0.0.1:15000` or another pod's name sent to
// A is answered by A.
func (p *packer) pinToOriginalDestination() *hcmv3.HttpFilter {
	return p.setFilterState(
		filterStateValue(dynamicHostKey, "", "%DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT%"),
		filterStateValue(dynamicPortKey, "", "%DOWNSTREAM_LOCAL_PORT%"),
	)
}

// setFilterState sets values in the request's filter state, on its
// headers.
func (p *packer) setFilterState(values ...*setfilterstatev3.FilterStateValue) *hcmv3.HttpFilter {
	return &hcmv3.HttpFilter{
		Name:       setFilterStateName,
		ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: p.pack(&setfilterstatehttpv3.Config{OnRequestHeaders: values})},
	}
}

// filterStateValue sets key to format, made into an object by factory
// (the key's own factory when empty).
func filterStateValue(key, factory, format string) *setfilterstatev3.FilterStateValue {
	return &setfilterstatev3.FilterStateValue{
		Key:        &setfilterstatev3.FilterStateValue_ObjectKey{ObjectKey: key},
		FactoryKey: factory,
		Value: &setfilterstatev3.FilterStateValue_FormatString{FormatString: &corev3.SubstitutionFormatString{
			Format: &corev3.SubstitutionFormatString_TextFormatSource{TextFormatSource: &corev3.DataSource{
				Specifier: &corev3.DataSource_InlineString{InlineString: format},
			}},
		}},
	}
}

// forwardProxy is the dynamic forward proxy filter, taking its destination
// from the filter state pinToOriginalDestination sets. The cluster reads
// the same filter state, so filter and cluster always agree.
func (p *packer) forwardProxy() *hcmv3.HttpFilter {
	return &hcmv3.HttpFilter{
		Name: dfpName,
		ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: p.pack(&dfpfilterv3.FilterConfig{
			ImplementationSpecifier:         &dfpfilterv3.FilterConfig_SubClusterConfig{SubClusterConfig: &dfpfilterv3.SubClusterConfig{}},
			AllowDynamicHostFromFilterState: true,
		})},
	}
}

// outboundClusters returns the forward proxy, the passthrough cluster and
// the black hole of refused connections, or nil when egress is off.
//
// The forward proxy runs in sub-cluster mode (proven against the real
// Envoy by the data-plane tests): one parent speaking the downstream's
// protocol, so HTTP/1.1 and gRPC share it and a destination gets a single
// sub-cluster, keyed by the dialled address.
func (p *packer) outboundClusters(s *proxy.Spec) []*clusterv3.Cluster {
	if !s.Egress {
		return nil
	}
	clusters := []*clusterv3.Cluster{p.forwardProxyCluster(outboundHTTPCluster), passthroughCluster(outboundPassthroughCluster), blackHoleCluster()}
	if s.IPv6 {
		http6 := passthroughCluster(outboundHTTP6Cluster)
		http6.TypedExtensionProtocolOptions = p.protocolOptions(upstreamAsDownstream)
		clusters = append(clusters, http6)
	}
	clusters = append(clusters, p.serviceClusters(s)...)
	return append(clusters, p.egressClusters(s)...)
}

// forwardProxyCluster is a forward proxy in sub-cluster mode: one
// sub-cluster per destination host and port.
func (p *packer) forwardProxyCluster(name string) *clusterv3.Cluster {
	return &clusterv3.Cluster{
		Name: name,
		ClusterDiscoveryType: &clusterv3.Cluster_ClusterType{ClusterType: &clusterv3.Cluster_CustomClusterType{
			Name: dfpClusterType,
			TypedConfig: p.pack(&dfpclusterv3.ClusterConfig{
				// The proxy never originates TLS (TLS from the application
				// passes through as TCP), so Envoy's auto_sni and
				// auto_san_validation requirement does not apply.
				AllowInsecureClusterOptions: true,
				ClusterImplementationSpecifier: &dfpclusterv3.ClusterConfig_SubClustersConfig{SubClustersConfig: &dfpclusterv3.SubClustersConfig{
					LbPolicy:       clusterv3.Cluster_ROUND_ROBIN,
					MaxSubClusters: wrapperspb.UInt32(MaxDestinations),
					SubClusterTtl:  durationpb.New(DestinationTTL),
				}},
			}),
		}},
		LbPolicy:                      clusterv3.Cluster_CLUSTER_PROVIDED,
		ConnectTimeout:                durationpb.New(remoteConnectTimeout),
		DnsLookupFamily:               dnsLookupFamily,
		CircuitBreakers:               unlimited(),
		TypedExtensionProtocolOptions: p.protocolOptions(upstreamAsDownstream),
	}
}
