package bootstrap

import (
	"slices"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	httpinspectorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/http_inspector/v3"
	originaldstv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/original_dst/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"

	"github.com/planeless/planeless/proxy"
)

const (
	loopbackV4 = "127.0.0.1"
	loopbackV6 = "::1"
	anyV4      = "0.0.0.0"
	anyV6      = "::"

	originalDstName   = "envoy.filters.listener.original_dst"
	httpInspectorName = "envoy.filters.listener.http_inspector"
	tcpProxyName      = "envoy.filters.network.tcp_proxy"
)

// sniffTimeout is how long the HTTP inspector waits for a client's first
// bytes. A server-first protocol (MySQL, SMTP) sends nothing until the
// server speaks, so after this delay the connection continues as TCP
// instead of stalling forever. An HTTP client slower than this loses its
// L7 stats but still works: its bytes pass through untouched.
const sniffTimeout = 1 * time.Second

// httpProtocols are the application protocols the HTTP inspector reports
// for plaintext HTTP/1.x and HTTP/2 with prior knowledge.
var httpProtocols = []string{"http/1.1", "h2c"}

func socketAddress(ip string, port uint16) *corev3.Address {
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Protocol:      corev3.SocketAddress_TCP,
		Address:       ip,
		PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: uint32(port)},
	}}}
}

// bind sets the listener's address to v4:port, adding v6:port when the pod
// has IPv6.
func bind(l *listenerv3.Listener, ipv6 bool, v4, v6 string, port uint16) {
	l.Address = socketAddress(v4, port)
	if ipv6 {
		l.AdditionalAddresses = []*listenerv3.AdditionalAddress{{Address: socketAddress(v6, port)}}
	}
}

// originalDst restores the destination iptables REDIRECT rewrote, so that
// filter chains match on (and passthrough clusters connect to) the address
// the client dialled.
func (p *packer) originalDst() *listenerv3.ListenerFilter {
	return &listenerv3.ListenerFilter{
		Name:       originalDstName,
		ConfigType: &listenerv3.ListenerFilter_TypedConfig{TypedConfig: p.pack(&originaldstv3.OriginalDst{})},
	}
}

// httpInspector detects plaintext HTTP/1.x and h2c, except for the
// connections disabled matches (nil: all of them are inspected), so that
// opaque and declared tcp ports (possibly server-first) never wait for it.
func (p *packer) httpInspector(disabled *listenerv3.ListenerFilterChainMatchPredicate) *listenerv3.ListenerFilter {
	return &listenerv3.ListenerFilter{
		Name:           httpInspectorName,
		ConfigType:     &listenerv3.ListenerFilter_TypedConfig{TypedConfig: p.pack(&httpinspectorv3.HttpInspector{})},
		FilterDisabled: disabled,
	}
}

// inPortRanges matches connections whose destination port is in one of
// ranges; nil for no ranges.
func inPortRanges(ranges []proxy.PortRange) *listenerv3.ListenerFilterChainMatchPredicate {
	rules := make([]*listenerv3.ListenerFilterChainMatchPredicate, len(ranges))
	for i, r := range ranges {
		rules[i] = &listenerv3.ListenerFilterChainMatchPredicate{
			Rule: &listenerv3.ListenerFilterChainMatchPredicate_DestinationPortRange{
				DestinationPortRange: &typev3.Int32Range{Start: int32(r.First), End: int32(r.Last) + 1},
			},
		}
	}
	switch len(rules) {
	case 0:
		return nil
	case 1:
		return rules[0]
	}
	return &listenerv3.ListenerFilterChainMatchPredicate{
		Rule: &listenerv3.ListenerFilterChainMatchPredicate_OrMatch{
			OrMatch: &listenerv3.ListenerFilterChainMatchPredicate_MatchSet{Rules: rules},
		},
	}
}

// inPorts matches connections whose destination port is one of ports;
// consecutive ports make one range, so that 8000-8099 costs what one port
// does.
func inPorts(ports []uint16) *listenerv3.ListenerFilterChainMatchPredicate {
	sorted := slices.Clone(ports)
	slices.Sort(sorted)
	var ranges []proxy.PortRange
	for _, port := range slices.Compact(sorted) {
		if n := len(ranges); n > 0 && ranges[n-1].Last+1 == port {
			ranges[n-1].Last = port
			continue
		}
		ranges = append(ranges, proxy.PortRange{First: port, Last: port})
	}
	return inPortRanges(ranges)
}

// notInPorts matches connections whose destination port is not one of
// ports.
func notInPorts(ports []uint16) *listenerv3.ListenerFilterChainMatchPredicate {
	return &listenerv3.ListenerFilterChainMatchPredicate{
		Rule: &listenerv3.ListenerFilterChainMatchPredicate_NotMatch{NotMatch: inPorts(ports)},
	}
}

// tcpProxy passes the connection's bytes to cluster untouched.
func (p *packer) tcpProxy(statPrefix, cluster string) *listenerv3.Filter {
	return p.networkFilter(tcpProxyName, &tcpproxyv3.TcpProxy{
		StatPrefix:       statPrefix,
		ClusterSpecifier: &tcpproxyv3.TcpProxy_Cluster{Cluster: cluster},
	})
}
