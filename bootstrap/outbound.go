package bootstrap

import (
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	dfpclusterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/clusters/dynamic_forward_proxy/v3"
	dfpfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/dynamic_forward_proxy/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/planeless/planeless/proxy"
)

const (
	outboundListenerName = "outbound"
	// outboundHTTPCluster is the dynamic forward proxy parent cluster. In
	// sub-cluster mode it creates one real cluster per destination
	// host:port (named DFPCluster:<host>:<port>), so every service the pod
	// calls gets its own upstream stats.
	outboundHTTPCluster = "outbound|http"
	// outboundPassthroughCluster connects non-HTTP traffic to the address
	// the application dialled.
	outboundPassthroughCluster = "outbound|passthrough"

	dfpName = "envoy.filters.http.dynamic_forward_proxy"
	// dfpClusterType is the custom cluster type of the forward proxy.
	dfpClusterType = "envoy.clusters.dynamic_forward_proxy"

	// dnsLookupFamily resolves A records first and falls back to AAAA, so
	// both IPv4 and IPv6-only services are reachable.
	dnsLookupFamily = clusterv3.Cluster_V4_PREFERRED
	// DestinationTTL drops the sub-cluster (and so the stats) of a
	// destination not called for this long.
	DestinationTTL = 5 * time.Minute
	// MaxDestinations bounds the sub-clusters alive at once, and so the
	// per-destination series of one pod: a request to one more destination
	// while MaxDestinations others were called within DestinationTTL fails
	// with 503. Envoy's own default, written
	// down because docs/metrics.md promises it.
	MaxDestinations = 1024
)

// outboundListener receives the connections iptables redirects from the
// application's outbound traffic. HTTP/1.1 and h2c go through the dynamic
// forward proxy, which routes by the Host header; everything else (TLS,
// databases, Redis) is passed through to its original destination
// untouched. It returns nil when egress is off.
func (p *packer) outboundListener(s *proxy.Spec) *listenerv3.Listener {
	if !s.Egress {
		return nil
	}
	statPrefix := string(outbound) + "_http"
	dfp := &hcmv3.HttpFilter{
		Name: dfpName,
		ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: p.pack(&dfpfilterv3.FilterConfig{
			ImplementationSpecifier: &dfpfilterv3.FilterConfig_SubClusterConfig{SubClusterConfig: &dfpfilterv3.SubClusterConfig{}},
		})},
	}
	l := &listenerv3.Listener{
		Name:                             outboundListenerName,
		TrafficDirection:                 corev3.TrafficDirection_OUTBOUND,
		ListenerFilters:                  []*listenerv3.ListenerFilter{p.originalDst(), p.httpInspector(nil)},
		ListenerFiltersTimeout:           durationpb.New(sniffTimeout),
		ContinueOnListenerFiltersTimeout: true,
		FilterChains: []*listenerv3.FilterChain{{
			Name:             outboundHTTPCluster,
			FilterChainMatch: &listenerv3.FilterChainMatch{ApplicationProtocols: httpProtocols},
			Filters: []*listenerv3.Filter{p.httpConnectionManager(s, outbound, statPrefix,
				anyHost(statPrefix, grpcRoute(outboundHTTPCluster), restRoute(outboundHTTPCluster)), dfp)},
		}},
		DefaultFilterChain: &listenerv3.FilterChain{
			Name:    outboundPassthroughCluster,
			Filters: []*listenerv3.Filter{p.tcpProxy(string(outbound)+"_passthrough", outboundPassthroughCluster)},
		},
	}
	bind(l, s.IPv6, loopbackV4, loopbackV6, s.Proxy.Ports.Outbound)
	return l
}

// outboundClusters returns the forward proxy and the passthrough cluster,
// or nil when egress is off.
//
// The forward proxy runs in sub-cluster mode (proven against the real
// Envoy by TestOutboundForwardsHTTPByHostPerDestination): one parent
// speaking the downstream's protocol, so HTTP/1.1 and gRPC share it and a
// destination gets a single sub-cluster. Sub-cluster mode has no DNS cache
// config to keep identical between filter and cluster: sub-clusters are
// STRICT_DNS clusters that inherit the parent's dns_lookup_family.
func (p *packer) outboundClusters(s *proxy.Spec) []*clusterv3.Cluster {
	if !s.Egress {
		return nil
	}
	dfp := &clusterv3.Cluster{
		Name: outboundHTTPCluster,
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
	return []*clusterv3.Cluster{dfp, passthroughCluster(outboundPassthroughCluster)}
}
