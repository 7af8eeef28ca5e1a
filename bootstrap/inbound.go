package bootstrap

import (
	"fmt"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/planeless/planeless/iptables"
	"github.com/planeless/planeless/proxy"
)

const inboundListenerName = "inbound"

// inboundClusterName names the local cluster for one port and upstream
// protocol: inbound|8080|grpc, inbound|8080|http, inbound|8080|tcp.
func inboundClusterName(port uint16, kind string) string {
	return fmt.Sprintf("inbound|%d|%s", port, kind)
}

// inboundListener receives the connections iptables redirects from the
// application's ports. The original destination port picks the chain; a
// connection to a port without a chain is closed. It returns nil when the
// pod has no intercepted ports.
func (p *packer) inboundListener(s *proxy.Spec) *listenerv3.Listener {
	if len(s.Inbound) == 0 {
		return nil
	}
	l := &listenerv3.Listener{
		Name:             inboundListenerName,
		TrafficDirection: corev3.TrafficDirection_INBOUND,
		ListenerFilters:  []*listenerv3.ListenerFilter{p.originalDst()},
	}
	bind(l, s.IPv6, anyV4, anyV6, s.Proxy.Ports.Inbound)

	var sniffed []uint16
	for _, port := range s.Inbound {
		if port.Protocol == proxy.ProtocolAuto {
			sniffed = append(sniffed, port.Number)
		}
		l.FilterChains = append(l.FilterChains, p.inboundChains(s, port)...)
	}
	if len(sniffed) > 0 {
		var disabled *listenerv3.ListenerFilterChainMatchPredicate
		if len(sniffed) < len(s.Inbound) {
			disabled = notInPorts(sniffed)
		}
		l.ListenerFilters = append(l.ListenerFilters, p.httpInspector(disabled))
		l.ListenerFiltersTimeout = durationpb.New(sniffTimeout)
		l.ContinueOnListenerFiltersTimeout = true
	}
	return l
}

// inboundChains returns the filter chains for one intercepted port.
func (p *packer) inboundChains(s *proxy.Spec, port proxy.Port) []*listenerv3.FilterChain {
	statPrefix := fmt.Sprintf("%s_%d", inbound, port.Number)
	match := func(protocols ...string) *listenerv3.FilterChainMatch {
		return &listenerv3.FilterChainMatch{
			DestinationPort:      wrapperspb.UInt32(uint32(port.Number)),
			ApplicationProtocols: protocols,
		}
	}
	chain := func(kind string, m *listenerv3.FilterChainMatch, f *listenerv3.Filter) *listenerv3.FilterChain {
		return &listenerv3.FilterChain{
			Name:             inboundClusterName(port.Number, kind),
			FilterChainMatch: m,
			Filters:          []*listenerv3.Filter{f},
		}
	}
	grpcCluster := inboundClusterName(port.Number, "grpc")
	httpCluster := inboundClusterName(port.Number, "http")
	tcpCluster := inboundClusterName(port.Number, "tcp")
	split := func() *listenerv3.Filter {
		return p.httpConnectionManager(s, inbound, statPrefix,
			anyHost(statPrefix, grpcRoute(grpcCluster, routeTimeout(s)), restRoute(httpCluster, routeTimeout(s))))
	}

	switch port.Protocol {
	case proxy.ProtocolGRPC:
		return []*listenerv3.FilterChain{chain("grpc", match(),
			p.httpConnectionManager(s, inbound, statPrefix, anyHost(statPrefix, grpcOnlyRoute(grpcCluster, routeTimeout(s)))))}
	case proxy.ProtocolHTTP:
		return []*listenerv3.FilterChain{chain("http", match(), split())}
	case proxy.ProtocolAuto:
		return []*listenerv3.FilterChain{
			chain("http", match(httpProtocols...), split()),
			chain("tcp", match(), p.tcpProxy(statPrefix, tcpCluster)),
		}
	default:
		return []*listenerv3.FilterChain{chain("tcp", match(), p.tcpProxy(statPrefix, tcpCluster))}
	}
}

// inboundKind is one of the local clusters a port may route to.
type inboundKind struct {
	name     string
	upstream upstream
}

var (
	grpcKind = inboundKind{"grpc", upstreamHTTP2}
	httpKind = inboundKind{"http", upstreamHTTP1}
	tcpKind  = inboundKind{"tcp", upstreamTCP}
)

// inboundKinds lists the local clusters the chains of a port route to.
func inboundKinds(p proxy.Protocol) []inboundKind {
	switch p {
	case proxy.ProtocolGRPC:
		return []inboundKind{grpcKind}
	case proxy.ProtocolHTTP:
		return []inboundKind{grpcKind, httpKind}
	case proxy.ProtocolAuto:
		return []inboundKind{grpcKind, httpKind, tcpKind}
	default:
		return []inboundKind{tcpKind}
	}
}

// inboundClusters returns the local clusters the inbound chains route to,
// port by port.
func (p *packer) inboundClusters(s *proxy.Spec) []*clusterv3.Cluster {
	var clusters []*clusterv3.Cluster
	for _, port := range s.Inbound {
		for _, k := range inboundKinds(port.Protocol) {
			clusters = append(clusters, p.appCluster(s, inboundClusterName(port.Number, k.name), k.upstream))
		}
	}
	return clusters
}

// appCluster connects to the address the caller dialled, restored by the
// original_dst listener filter: the pod's own IP and port, exactly as
// without a sidecar. A listener the application binds to 127.0.0.1 only
// stays private, one bound to the pod's IP only keeps working.
func (p *packer) appCluster(s *proxy.Spec, name string, up upstream) *clusterv3.Cluster {
	// From the source addresses the rules never redirect, so that this
	// connection to the pod's own address on an intercepted port is not
	// taken for the application calling itself (Istio's 127.0.0.6).
	bindTo := &corev3.BindConfig{SourceAddress: sourceAddress(iptables.InboundSourceV4)}
	if s.IPv6 {
		bindTo.ExtraSourceAddresses = []*corev3.ExtraSourceAddress{{Address: sourceAddress(iptables.InboundSourceV6)}}
	}
	return &clusterv3.Cluster{
		Name:                          name,
		ClusterDiscoveryType:          &clusterv3.Cluster_Type{Type: clusterv3.Cluster_ORIGINAL_DST},
		LbPolicy:                      clusterv3.Cluster_CLUSTER_PROVIDED,
		ConnectTimeout:                durationpb.New(localConnectTimeout),
		CircuitBreakers:               unlimited(),
		TypedExtensionProtocolOptions: p.protocolOptions(up),
		UpstreamBindConfig:            bindTo,
	}
}

func sourceAddress(ip string) *corev3.SocketAddress {
	return &corev3.SocketAddress{Address: ip, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 0}}
}
