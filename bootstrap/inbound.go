package bootstrap

import (
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/planeless/planeless/iptables"
	"github.com/planeless/planeless/proxy"
)

const inboundListenerName = "inbound"

// The inbound side is the same whatever the number of ports: one filter
// chain per way of treating a connection, shared by every port treated
// that way, and one local cluster per upstream protocol, shared too. The
// clusters are original-destination clusters: each connection goes to the
// port the caller dialled, so nothing in them names a port. Only the
// listener's filter chain matcher (inboundmatch.go) lists the ports, a few
// dozen bytes each.
const (
	// inboundGRPC, inboundHTTP and inboundTCP name the chains, and the
	// clusters of the same upstream protocol: inbound|grpc (HTTP/2),
	// inbound|http (HTTP/1.1) and inbound|tcp (bytes passed through).
	inboundGRPC = "inbound|grpc"
	inboundHTTP = "inbound|http"
	inboundTCP  = "inbound|tcp"
)

// inboundListener receives the connections iptables redirects from the
// application's ports. The original destination port, and for auto ports
// what the HTTP inspector saw, picks the chain; a connection to a port
// without one (the listener's own port, dialled directly) is closed. It
// returns nil when the pod has no intercepted ports.
func (p *packer) inboundListener(s *proxy.Spec) *listenerv3.Listener {
	if len(s.Inbound) == 0 {
		return nil
	}
	l := &listenerv3.Listener{
		Name:               inboundListenerName,
		TrafficDirection:   corev3.TrafficDirection_INBOUND,
		ListenerFilters:    []*listenerv3.ListenerFilter{p.originalDst()},
		FilterChainMatcher: p.inboundMatcher(s.Inbound, s.Proxy.Ports.Inbound),
	}
	bind(l, s.IPv6, anyV4, anyV6, s.Proxy.Ports.Inbound)

	uses := inboundChains(s.Inbound)
	if uses[inboundGRPC] {
		l.FilterChains = append(l.FilterChains, p.inboundChain(inboundGRPC,
			p.httpConnectionManager(s, inbound, statPrefixOf(inboundGRPC), anyHost(statPrefixOf(inboundGRPC), grpcOnlyRoute(inboundGRPC, routeTimeout(s))))))
	}
	if uses[inboundHTTP] {
		l.FilterChains = append(l.FilterChains, p.inboundChain(inboundHTTP,
			p.httpConnectionManager(s, inbound, statPrefixOf(inboundHTTP), anyHost(statPrefixOf(inboundHTTP),
				grpcRoute(inboundGRPC, routeTimeout(s)), restRoute(inboundHTTP, routeTimeout(s))))))
	}
	if uses[inboundTCP] {
		l.FilterChains = append(l.FilterChains, p.inboundChain(inboundTCP, p.tcpProxy(statPrefixOf(inboundTCP), inboundTCP)))
	}

	if disabled, sniffs := inspected(s.Inbound, s.Proxy.Ports.Inbound); sniffs {
		// Only auto ports are sniffed: declared ports (possibly
		// server-first) never wait, and an application protocol on a
		// connection means an auto port (inboundmatch.go relies on it).
		l.ListenerFilters = append(l.ListenerFilters, p.httpInspector(disabled))
		l.ListenerFiltersTimeout = durationpb.New(sniffTimeout)
		l.ContinueOnListenerFiltersTimeout = true
	}
	return l
}

func (p *packer) inboundChain(name string, f *listenerv3.Filter) *listenerv3.FilterChain {
	return &listenerv3.FilterChain{Name: name, Filters: []*listenerv3.Filter{f}}
}

// statPrefixOf is a chain's stat prefix: inbound|http counts under
// http.inbound_http.
func statPrefixOf(chain string) string {
	switch chain {
	case inboundGRPC:
		return string(inbound) + "_grpc"
	case inboundHTTP:
		return string(inbound) + "_http"
	}
	return string(inbound) + "_tcp"
}

// inboundChains says which chains the ports need: a grpc port the gRPC
// chain, an http port the HTTP chain, an auto port the HTTP chain and the
// TCP passthrough, a tcp port the passthrough.
func inboundChains(ports []proxy.Port) map[string]bool {
	uses := map[string]bool{}
	for _, port := range ports {
		switch port.Protocol {
		case proxy.ProtocolGRPC:
			uses[inboundGRPC] = true
		case proxy.ProtocolHTTP:
			uses[inboundHTTP] = true
		case proxy.ProtocolAuto:
			uses[inboundHTTP], uses[inboundTCP] = true, true
		default:
			uses[inboundTCP] = true
		}
	}
	return uses
}

// inboundUses says which clusters the chains route to: the HTTP chain
// sends gRPC to the gRPC cluster and the rest to the HTTP/1.1 one.
func inboundUses(ports []proxy.Port) map[string]bool {
	uses := inboundChains(ports)
	if uses[inboundHTTP] {
		uses[inboundGRPC] = true
	}
	return uses
}

func autoPorts(ports []proxy.Port) []uint16 {
	var auto []uint16
	for _, port := range ports {
		if port.Protocol == proxy.ProtocolAuto {
			auto = append(auto, port.Number)
		}
	}
	return auto
}

// inboundClusters returns the local clusters the inbound chains route to.
func (p *packer) inboundClusters(s *proxy.Spec) []*clusterv3.Cluster {
	uses := inboundUses(s.Inbound)
	var clusters []*clusterv3.Cluster
	for _, c := range []struct {
		name string
		up   upstream
	}{{inboundGRPC, upstreamHTTP2}, {inboundHTTP, upstreamHTTP1}, {inboundTCP, upstreamTCP}} {
		if uses[c.name] {
			clusters = append(clusters, p.appCluster(s, c.name, c.up))
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
