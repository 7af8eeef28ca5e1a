package bootstrap_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	dfpclusterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/clusters/dynamic_forward_proxy/v3"
	dfpfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/dynamic_forward_proxy/v3"
	setfilterstatehttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/set_filter_state/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	upstreamhttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"

	"github.com/planeless/planeless/bootstrap"
	"github.com/planeless/planeless/iptables"
	"github.com/planeless/planeless/proxy"
)

// chainShape is what a filter chain does, read back from the typed config.
type chainShape struct {
	Name         string
	Protocols    []string
	TCPCluster   string
	Routes       []routeShape
	HTTPFilters  []string
	AccessLogged bool
}

type routeShape struct {
	GRPCOnly bool
	Cluster  string
	Timeout  time.Duration
}

func unpack[M proto.Message](t *testing.T, a interface{ UnmarshalTo(proto.Message) error }, m M) M {
	t.Helper()
	if err := a.UnmarshalTo(m); err != nil {
		t.Fatalf("unpacking %T: %v", m, err)
	}
	return m
}

func shapeOf(t *testing.T, c *listenerv3.FilterChain) chainShape {
	t.Helper()
	s := chainShape{
		Name:      c.GetName(),
		Protocols: c.GetFilterChainMatch().GetApplicationProtocols(),
	}
	if len(c.GetFilters()) != 1 {
		t.Fatalf("chain %s has %d network filters, want 1", c.GetName(), len(c.GetFilters()))
	}
	switch f := c.GetFilters()[0]; f.GetName() {
	case "envoy.filters.network.tcp_proxy":
		s.TCPCluster = unpack(t, f.GetTypedConfig(), &tcpproxyv3.TcpProxy{}).GetCluster()
	case "envoy.filters.network.http_connection_manager":
		hcm := unpack(t, f.GetTypedConfig(), &hcmv3.HttpConnectionManager{})
		if hcm.GetCodecType() != hcmv3.HttpConnectionManager_AUTO {
			t.Errorf("chain %s: codec %s, want AUTO", c.GetName(), hcm.GetCodecType())
		}
		if len(hcm.GetUpgradeConfigs()) != 1 || hcm.GetUpgradeConfigs()[0].GetUpgradeType() != "websocket" {
			t.Errorf("chain %s: websocket upgrades are not enabled", c.GetName())
		}
		var loggers []string
		for _, l := range hcm.GetAccessLog() {
			loggers = append(loggers, l.GetName())
		}
		// The stdout line, then the request metrics.
		s.AccessLogged = slices.Equal(loggers, []string{"envoy.access_loggers.stdout", "envoy.access_loggers.stats"})
		for _, hf := range hcm.GetHttpFilters() {
			s.HTTPFilters = append(s.HTTPFilters, hf.GetName())
		}
		for _, r := range hcm.GetRouteConfig().GetVirtualHosts()[0].GetRoutes() {
			s.Routes = append(s.Routes, routeShape{
				GRPCOnly: r.GetMatch().GetGrpc() != nil,
				Cluster:  r.GetRoute().GetCluster(),
				Timeout:  r.GetRoute().GetTimeout().AsDuration(),
			})
		}
	default:
		t.Fatalf("chain %s: unexpected filter %s", c.GetName(), f.GetName())
	}
	return s
}

func build(t *testing.T, s *proxy.Spec) *bootstrapv3.Bootstrap {
	t.Helper()
	b, err := bootstrap.Build(s)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return b
}

func listener(b *bootstrapv3.Bootstrap, name string) *listenerv3.Listener {
	for _, l := range b.GetStaticResources().GetListeners() {
		if l.GetName() == name {
			return l
		}
	}
	return nil
}

func cluster(b *bootstrapv3.Bootstrap, name string) *clusterv3.Cluster {
	for _, c := range b.GetStaticResources().GetClusters() {
		if c.GetName() == name {
			return c
		}
	}
	return nil
}

func listenerFilterNames(l *listenerv3.Listener) []string {
	var names []string
	for _, f := range l.GetListenerFilters() {
		names = append(names, f.GetName())
	}
	return names
}

var router = "envoy.filters.http.router"
var grpcStats = "envoy.filters.http.grpc_stats"

func TestEachProtocolGetsItsChainShape(t *testing.T) {
	grpcChain := chainShape{
		Name: "inbound|grpc", HTTPFilters: []string{grpcStats, router}, AccessLogged: true,
		Routes: []routeShape{{Cluster: "inbound|grpc"}},
	}
	httpChain := chainShape{
		Name: "inbound|http", HTTPFilters: []string{grpcStats, router}, AccessLogged: true,
		Routes: []routeShape{{GRPCOnly: true, Cluster: "inbound|grpc"}, {Cluster: "inbound|http"}},
	}
	tcpChain := chainShape{Name: "inbound|tcp", TCPCluster: "inbound|tcp"}
	tests := map[string]struct {
		protocol        proxy.Protocol
		wantChains      []chainShape
		wantClusters    map[string]string // name -> upstream protocol
		wantPicked      map[connection]string
		wantSniffing    bool
		wantListenerFil []string
	}{
		"grpc sends every request to the HTTP/2 cluster with no timeout": {
			protocol:        proxy.ProtocolGRPC,
			wantChains:      []chainShape{grpcChain},
			wantClusters:    map[string]string{"inbound|grpc": "h2"},
			wantPicked:      map[connection]string{{port: 7000}: "inbound|grpc"},
			wantListenerFil: []string{"envoy.filters.listener.original_dst"},
		},
		"http splits gRPC to HTTP/2 and the rest to HTTP/1.1": {
			protocol:        proxy.ProtocolHTTP,
			wantChains:      []chainShape{httpChain},
			wantClusters:    map[string]string{"inbound|grpc": "h2", "inbound|http": "http/1.1"},
			wantPicked:      map[connection]string{{port: 7000}: "inbound|http"},
			wantListenerFil: []string{"envoy.filters.listener.original_dst"},
		},
		"auto sniffs HTTP into the http chain and passes the rest through as TCP": {
			protocol:     proxy.ProtocolAuto,
			wantChains:   []chainShape{httpChain, tcpChain},
			wantClusters: map[string]string{"inbound|grpc": "h2", "inbound|http": "http/1.1", "inbound|tcp": "tcp"},
			wantPicked: map[connection]string{
				{port: 7000, protocol: "http/1.1"}: "inbound|http",
				{port: 7000, protocol: "h2c"}:      "inbound|http",
				{port: 7000}:                       "inbound|tcp",
			},
			wantSniffing:    true,
			wantListenerFil: []string{"envoy.filters.listener.original_dst", "envoy.filters.listener.http_inspector"},
		},
		"tcp passes bytes through untouched": {
			protocol:        proxy.ProtocolTCP,
			wantChains:      []chainShape{tcpChain},
			wantClusters:    map[string]string{"inbound|tcp": "tcp"},
			wantPicked:      map[connection]string{{port: 7000}: "inbound|tcp"},
			wantListenerFil: []string{"envoy.filters.listener.original_dst"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ports := proxy.DefaultDefaults().Ports
			s := &proxy.Spec{
				Workload: proxy.Workload{Namespace: "ns", Name: "p", App: "a", Version: "v"},
				Inbound:  []proxy.Port{{Number: 7000, Protocol: tc.protocol}},
				Proxy:    proxy.Sidecar{Ports: ports},
			}
			b := build(t, s)
			in := listener(b, "inbound")
			var got []chainShape
			for _, c := range in.GetFilterChains() {
				got = append(got, shapeOf(t, c))
			}
			if diff := cmp.Diff(tc.wantChains, got); diff != "" {
				t.Errorf("chains (-want +got):\n%s", diff)
			}
			// The listener's own port, dialled directly, is closed
			// whatever it carries: passed on, it would loop.
			tc.wantPicked[connection{port: uint32(ports.Inbound)}] = ""
			tc.wantPicked[connection{port: uint32(ports.Inbound), protocol: "http/1.1"}] = ""
			for c, want := range tc.wantPicked {
				if got := chainFor(t, in, c); got != want {
					t.Errorf("a connection to port %d (HTTP inspector: %q) goes to chain %q, want %q", c.port, c.protocol, got, want)
				}
			}
			if diff := cmp.Diff(tc.wantListenerFil, listenerFilterNames(in)); diff != "" {
				t.Errorf("listener filters (-want +got):\n%s", diff)
			}
			sniffs := in.GetListenerFiltersTimeout() != nil && in.GetContinueOnListenerFiltersTimeout()
			if sniffs != tc.wantSniffing {
				t.Errorf("listener filters timeout with continue = %v, want %v", sniffs, tc.wantSniffing)
			}
			gotClusters := map[string]string{}
			for _, c := range b.GetStaticResources().GetClusters() {
				if c.GetName() == "admin" {
					continue
				}
				gotClusters[c.GetName()] = upstreamProtocol(t, c)
				// The application is reached where the caller dialled it,
				// from the source address the rules never redirect.
				if c.GetType() != clusterv3.Cluster_ORIGINAL_DST || c.GetLbPolicy() != clusterv3.Cluster_CLUSTER_PROVIDED {
					t.Errorf("cluster %s: type %s, lb_policy %s; want ORIGINAL_DST, CLUSTER_PROVIDED", c.GetName(), c.GetType(), c.GetLbPolicy())
				}
				if got := c.GetUpstreamBindConfig().GetSourceAddress().GetAddress(); got != iptables.InboundSourceV4 {
					t.Errorf("cluster %s binds to %q, want %s", c.GetName(), got, iptables.InboundSourceV4)
				}
			}
			if diff := cmp.Diff(tc.wantClusters, gotClusters); diff != "" {
				t.Errorf("clusters (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEveryPortGetsTheChainOfItsProtocol mixes protocols: the matcher
// names the ports of all but the most common protocol, and each port must
// still get its own chain; the HTTP inspector runs for auto ports only.
func TestEveryPortGetsTheChainOfItsProtocol(t *testing.T) {
	ports := proxy.DefaultDefaults().Ports
	tests := map[string][]proxy.Port{
		"auto is the most common": {
			{Number: 3306, Protocol: proxy.ProtocolTCP}, {Number: 8080, Protocol: proxy.ProtocolAuto}, {Number: 8081, Protocol: proxy.ProtocolAuto},
			{Number: 8082, Protocol: proxy.ProtocolAuto}, {Number: 9090, Protocol: proxy.ProtocolGRPC}, {Number: 8000, Protocol: proxy.ProtocolHTTP},
		},
		"grpc is the most common": {
			{Number: 9090, Protocol: proxy.ProtocolGRPC}, {Number: 9091, Protocol: proxy.ProtocolGRPC}, {Number: 8080, Protocol: proxy.ProtocolAuto},
			{Number: 5432, Protocol: proxy.ProtocolTCP},
		},
		"one protocol, many ports": func() []proxy.Port {
			var all []proxy.Port
			for p := range uint16(100) {
				all = append(all, proxy.Port{Number: 8000 + 3*p, Protocol: proxy.ProtocolHTTP})
			}
			return all
		}(),
	}
	for name, inbound := range tests {
		t.Run(name, func(t *testing.T) {
			in := listener(build(t, &proxy.Spec{Inbound: inbound, Proxy: proxy.Sidecar{Ports: ports}}), "inbound")
			for _, port := range inbound {
				n := uint32(port.Number)
				plain := map[proxy.Protocol]string{
					proxy.ProtocolGRPC: "inbound|grpc", proxy.ProtocolHTTP: "inbound|http",
					proxy.ProtocolTCP: "inbound|tcp", proxy.ProtocolAuto: "inbound|tcp",
				}[port.Protocol]
				if got := chainFor(t, in, connection{port: n}); got != plain {
					t.Errorf("port %d (%s): chain %q, want %q", n, port.Protocol, got, plain)
				}
				// What looks like HTTP goes to the HTTP chain only on auto
				// ports: others are never inspected.
				sniffed := plain
				if port.Protocol == proxy.ProtocolAuto {
					sniffed = "inbound|http"
				}
				if got := chainFor(t, in, connection{port: n, protocol: "http/1.1"}); got != sniffed {
					t.Errorf("port %d (%s) carrying HTTP/1.1: chain %q, want %q", n, port.Protocol, got, sniffed)
				}
			}
			for _, c := range []connection{{port: uint32(ports.Inbound)}, {port: uint32(ports.Inbound), protocol: "h2c"}} {
				if got := chainFor(t, in, c); got != "" {
					t.Errorf("a connection to the listener's own port %d (HTTP inspector: %q) goes to %q, want it closed", c.port, c.protocol, got)
				}
			}
		})
	}
}

// upstreamProtocol reads the protocol a cluster speaks from its typed
// protocol options, failing on the deprecated cluster-level fields.
func upstreamProtocol(t *testing.T, c *clusterv3.Cluster) string {
	t.Helper()
	//lint:ignore SA1019 checking that the deprecated fields stay unset
	if c.GetHttp2ProtocolOptions() != nil || c.GetHttpProtocolOptions() != nil {
		t.Errorf("cluster %s uses the deprecated cluster-level protocol options", c.GetName())
	}
	a, ok := c.GetTypedExtensionProtocolOptions()["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]
	if !ok {
		return "tcp"
	}
	o := unpack(t, a, &upstreamhttpv3.HttpProtocolOptions{})
	switch {
	case o.GetExplicitHttpConfig().GetHttp2ProtocolOptions() != nil:
		return "h2"
	case o.GetExplicitHttpConfig().GetHttpProtocolOptions() != nil:
		return "http/1.1"
	case o.GetUseDownstreamProtocolConfig() != nil:
		return "as downstream"
	}
	return "unknown"
}

func TestHTTPInspectorSkipsPortsThatAreNotSniffed(t *testing.T) {
	ports := proxy.DefaultDefaults().Ports
	tests := map[string]struct {
		inbound []proxy.Port
		want    map[uint16]bool // port -> inspected
	}{
		"auto ports are the fewest: only they are inspected": {
			inbound: []proxy.Port{{Number: 3306, Protocol: proxy.ProtocolTCP}, {Number: 3307, Protocol: proxy.ProtocolTCP}, {Number: 8080, Protocol: proxy.ProtocolAuto}},
			want:    map[uint16]bool{3306: false, 3307: false, 8080: true, 8081: false, ports.Inbound: false},
		},
		"auto ports are the most: the others are named": {
			inbound: []proxy.Port{{Number: 3306, Protocol: proxy.ProtocolTCP}, {Number: 8080, Protocol: proxy.ProtocolAuto}, {Number: 8081, Protocol: proxy.ProtocolAuto}},
			want:    map[uint16]bool{3306: false, 8080: true, 8081: true, ports.Inbound: false},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			in := listener(build(t, &proxy.Spec{Inbound: tc.inbound, Proxy: proxy.Sidecar{Ports: ports}}), "inbound")
			inspector := in.GetListenerFilters()[1]
			if inspector.GetName() != "envoy.filters.listener.http_inspector" {
				t.Fatalf("second listener filter is %s", inspector.GetName())
			}
			for port, want := range tc.want {
				if got := !predicateMatches(t, inspector.GetFilterDisabled(), uint32(port)); got != want {
					t.Errorf("port %d inspected = %v, want %v", port, got, want)
				}
			}
		})
	}
}

func TestOutboundProxiesHTTPAndPassesTheRestThrough(t *testing.T) {
	s := &proxy.Spec{Egress: true, OpaquePorts: proxy.DefaultOpaquePorts(), Proxy: proxy.Sidecar{Ports: proxy.DefaultDefaults().Ports}}
	b := build(t, s)
	out := listener(b, "outbound")
	if out == nil {
		t.Fatal("no outbound listener with egress on")
	}
	if got := out.GetAddress().GetSocketAddress().GetAddress(); got != "127.0.0.1" {
		t.Errorf("outbound listener binds %s, want 127.0.0.1", got)
	}
	if diff := cmp.Diff([]string{"envoy.filters.listener.original_dst", "envoy.filters.listener.http_inspector"}, listenerFilterNames(out)); diff != "" {
		t.Errorf("listener filters (-want +got):\n%s", diff)
	}
	var names []string
	for _, c := range out.GetFilterChains() {
		names = append(names, c.GetName())
	}
	if diff := cmp.Diff([]string{"self|http", "self", "outbound|http"}, names); diff != "" {
		t.Fatalf("outbound filter chains (-want +got):\n%s", diff)
	}
	// Connections dialled at the listener itself (loopback destinations)
	// are refused, not forwarded to themselves.
	for _, c := range out.GetFilterChains()[:2] {
		var ranges []string
		for _, r := range c.GetFilterChainMatch().GetPrefixRanges() {
			ranges = append(ranges, fmt.Sprintf("%s/%d", r.GetAddressPrefix(), r.GetPrefixLen().GetValue()))
		}
		if diff := cmp.Diff([]string{"127.0.0.0/8", "::1/128"}, ranges); diff != "" {
			t.Errorf("chain %s matches destinations (-want +got):\n%s", c.GetName(), diff)
		}
	}
	if got := shapeOf(t, out.GetFilterChains()[1]).TCPCluster; got != "blackhole" || len(cluster(b, "blackhole").GetLoadAssignment().GetEndpoints()) != 0 {
		t.Errorf("a non-HTTP connection to the proxy itself goes to %q, want the endpointless blackhole", got)
	}
	http := shapeOf(t, out.GetFilterChains()[2])
	want := chainShape{
		Name: "outbound|http", Protocols: []string{"http/1.1", "h2c"},
		HTTPFilters: []string{"envoy.filters.http.set_filter_state", "envoy.filters.http.dynamic_forward_proxy", grpcStats, router}, AccessLogged: true,
		Routes: []routeShape{{GRPCOnly: true, Cluster: "outbound|http"}, {Cluster: "outbound|http"}},
	}
	if diff := cmp.Diff(want, http); diff != "" {
		t.Errorf("HTTP chain (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(chainShape{Name: "outbound|passthrough", TCPCluster: "outbound|passthrough"}, shapeOf(t, out.GetDefaultFilterChain())); diff != "" {
		t.Errorf("default chain (-want +got):\n%s", diff)
	}

	hcm := unpack(t, out.GetFilterChains()[2].GetFilters()[0].GetTypedConfig(), &hcmv3.HttpConnectionManager{})
	// The forward proxy is pinned to the address the application dialled:
	// the filter state it reads before any header holds the original
	// destination.
	pin := unpack(t, hcm.GetHttpFilters()[0].GetTypedConfig(), &setfilterstatehttpv3.Config{})
	gotPin := map[string]string{}
	for _, v := range pin.GetOnRequestHeaders() {
		gotPin[v.GetObjectKey()] = v.GetFormatString().GetTextFormatSource().GetInlineString()
	}
	wantPin := map[string]string{
		"envoy.upstream.dynamic_host": "%DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT%",
		"envoy.upstream.dynamic_port": "%DOWNSTREAM_LOCAL_PORT%",
	}
	if diff := cmp.Diff(wantPin, gotPin); diff != "" {
		t.Errorf("filter state of the forward proxy (-want +got):\n%s", diff)
	}
	dfpFilter := unpack(t, hcm.GetHttpFilters()[1].GetTypedConfig(), &dfpfilterv3.FilterConfig{})
	if dfpFilter.GetSubClusterConfig() == nil || !dfpFilter.GetAllowDynamicHostFromFilterState() {
		t.Errorf("the forward proxy filter is not in sub-cluster mode taking its host from filter state: %v", dfpFilter)
	}
	// Opaque ports are never sniffed.
	inspector := out.GetListenerFilters()[1].GetFilterDisabled().GetOrMatch().GetRules()
	var opaque []proxy.PortRange
	for _, r := range inspector {
		opaque = append(opaque, proxy.PortRange{First: uint16(r.GetDestinationPortRange().GetStart()), Last: uint16(r.GetDestinationPortRange().GetEnd() - 1)})
	}
	if diff := cmp.Diff(proxy.DefaultOpaquePorts(), opaque); diff != "" {
		t.Errorf("the HTTP inspector skips ports (-want +got):\n%s", diff)
	}
	dfp := cluster(b, "outbound|http")
	dfpConfig := unpack(t, dfp.GetClusterType().GetTypedConfig(), &dfpclusterv3.ClusterConfig{})
	if dfpConfig.GetSubClustersConfig() == nil {
		t.Errorf("the forward proxy cluster is not in sub-cluster mode: %v", dfpConfig)
	}
	if dfp.GetLbPolicy() != clusterv3.Cluster_CLUSTER_PROVIDED || dfp.GetDnsLookupFamily() != clusterv3.Cluster_V4_PREFERRED {
		t.Errorf("forward proxy cluster: lb_policy %s, dns_lookup_family %s", dfp.GetLbPolicy(), dfp.GetDnsLookupFamily())
	}
	if got := upstreamProtocol(t, dfp); got != "as downstream" {
		t.Errorf("forward proxy cluster speaks %s upstream, want the downstream's protocol", got)
	}
	if pt := cluster(b, "outbound|passthrough"); pt.GetType() != clusterv3.Cluster_ORIGINAL_DST || pt.GetLbPolicy() != clusterv3.Cluster_CLUSTER_PROVIDED {
		t.Errorf("passthrough cluster: type %s, lb_policy %s", pt.GetType(), pt.GetLbPolicy())
	}
	if cluster(b, "outbound|http6") != nil {
		t.Errorf("a pod without IPv6 got an IPv6 HTTP cluster")
	}

	t.Run("with IPv6, HTTP to IPv6 destinations goes to the address dialled, without the forward proxy", func(t *testing.T) {
		s := *s
		s.IPv6 = true
		b := build(t, &s)
		chains := listener(b, "outbound").GetFilterChains()
		if r := chains[len(chains)-2].GetFilterChainMatch().GetPrefixRanges(); len(r) != 1 || r[0].GetAddressPrefix() != "0.0.0.0" {
			t.Errorf("the IPv4 HTTP chain matches %v, want 0.0.0.0/0: without it, it also matches IPv6 destinations", r)
		}
		last := chains[len(chains)-1]
		if r := last.GetFilterChainMatch().GetPrefixRanges(); len(r) != 1 || r[0].GetAddressPrefix() != "::" || r[0].GetPrefixLen().GetValue() != 0 {
			t.Errorf("chain %s matches %v, want ::/0", last.GetName(), r)
		}
		want := chainShape{
			Name: "outbound|http6", Protocols: []string{"http/1.1", "h2c"},
			HTTPFilters: []string{grpcStats, router}, AccessLogged: true,
			Routes: []routeShape{{GRPCOnly: true, Cluster: "outbound|http6"}, {Cluster: "outbound|http6"}},
		}
		if diff := cmp.Diff(want, shapeOf(t, last)); diff != "" {
			t.Errorf("IPv6 HTTP chain (-want +got):\n%s", diff)
		}
		c := cluster(b, "outbound|http6")
		if c.GetType() != clusterv3.Cluster_ORIGINAL_DST || upstreamProtocol(t, c) != "as downstream" {
			t.Errorf("cluster outbound|http6: type %s, protocol %s; want ORIGINAL_DST speaking the downstream's protocol", c.GetType(), upstreamProtocol(t, c))
		}
	})
}

func TestEgressOffLeavesNoOutboundListenerOrClusters(t *testing.T) {
	b := build(t, &proxy.Spec{Egress: false, Proxy: proxy.Sidecar{Ports: proxy.DefaultDefaults().Ports}})
	if listener(b, "outbound") != nil || cluster(b, "outbound|http") != nil || cluster(b, "outbound|passthrough") != nil {
		t.Errorf("egress off still renders outbound parts")
	}
	if listener(b, "inbound") != nil {
		t.Errorf("a pod without ports got an inbound listener")
	}
}

func TestListenerAddresses(t *testing.T) {
	ports := proxy.DefaultDefaults().Ports
	addresses := func(l *listenerv3.Listener) []string {
		all := []string{l.GetAddress().GetSocketAddress().GetAddress()}
		for _, a := range l.GetAdditionalAddresses() {
			all = append(all, a.GetAddress().GetSocketAddress().GetAddress())
		}
		return all
	}
	tests := map[string]struct {
		ipv6 bool
		want map[string][]string
	}{
		"with IPv6 every listener also binds its IPv6 twin": {
			ipv6: true,
			want: map[string][]string{"stats": {"0.0.0.0", "::"}, "inbound": {"0.0.0.0", "::"}, "outbound": {"127.0.0.1", "::1"}},
		},
		"without IPv6 only IPv4 addresses are bound": {
			ipv6: false,
			want: map[string][]string{"stats": {"0.0.0.0"}, "inbound": {"0.0.0.0"}, "outbound": {"127.0.0.1"}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			b := build(t, &proxy.Spec{
				Inbound: []proxy.Port{{Number: 8080, Protocol: proxy.ProtocolHTTP}},
				Egress:  true, IPv6: tc.ipv6, Proxy: proxy.Sidecar{Ports: ports},
			})
			got := map[string][]string{}
			for _, l := range b.GetStaticResources().GetListeners() {
				got[l.GetName()] = addresses(l)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("listener addresses (-want +got):\n%s", diff)
			}
			if a := b.GetAdmin().GetAddress(); a.GetSocketAddress() != nil || a.GetPipe().GetPath() != bootstrap.AdminSocket || a.GetPipe().GetMode() != 0o600 {
				t.Errorf("admin binds %v, want only the socket %s, mode 0600", a, bootstrap.AdminSocket)
			}
		})
	}
}

func TestNodeAndStatsTagsCarryTheWorkload(t *testing.T) {
	b := build(t, &proxy.Spec{
		Workload: proxy.Workload{Namespace: "shop", Name: "cart-7c9d8f6b5", App: "cart", Version: "v2"},
		Proxy:    proxy.Sidecar{Ports: proxy.DefaultDefaults().Ports},
	})
	if got := b.GetNode().GetId(); got != "cart-7c9d8f6b5.shop" {
		t.Errorf("node id = %q", got)
	}
	if got := b.GetNode().GetCluster(); got != "cart.shop" {
		t.Errorf("node cluster = %q", got)
	}
	fixed := map[string]string{}
	for _, tag := range b.GetStatsConfig().GetStatsTags() {
		if v := tag.GetFixedValue(); v != "" {
			fixed[tag.GetTagName()] = v
		}
	}
	if diff := cmp.Diff(map[string]string{"namespace": "shop", "app": "cart", "version": "v2"}, fixed); diff != "" {
		t.Errorf("fixed stats tags (-want +got):\n%s", diff)
	}
	if !b.GetStatsConfig().GetUseAllDefaultTags().GetValue() {
		t.Errorf("default stats tags are off")
	}
}
