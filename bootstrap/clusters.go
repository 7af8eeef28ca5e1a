package bootstrap

import (
	"math"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	upstreamhttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

const (
	// localConnectTimeout bounds connecting to the application in the pod.
	localConnectTimeout = 1 * time.Second
	// remoteConnectTimeout bounds connecting to another pod or service.
	remoteConnectTimeout = 5 * time.Second

	// httpProtocolOptionsKey names the typed protocol options every HTTP
	// cluster carries (the cluster-level protocol fields are deprecated).
	httpProtocolOptionsKey = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
)

// upstream is the protocol Envoy speaks to a cluster's endpoints.
type upstream int

const (
	upstreamTCP upstream = iota
	upstreamHTTP1
	upstreamHTTP2
	// upstreamAsDownstream speaks whatever the client spoke: HTTP/2 (and so
	// gRPC) stays HTTP/2, HTTP/1.1 stays HTTP/1.1.
	upstreamAsDownstream
)

// passthroughCluster connects to the address the client originally dialled
// (restored by the original_dst listener filter).
func passthroughCluster(name string) *clusterv3.Cluster {
	return &clusterv3.Cluster{
		Name:                 name,
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_ORIGINAL_DST},
		LbPolicy:             clusterv3.Cluster_CLUSTER_PROVIDED,
		ConnectTimeout:       durationpb.New(remoteConnectTimeout),
		CircuitBreakers:      unlimited(),
	}
}

// protocolOptions returns the typed_extension_protocol_options that make a
// cluster speak up, or nil for TCP.
func (p *packer) protocolOptions(up upstream) map[string]*anypb.Any {
	opts := &upstreamhttpv3.HttpProtocolOptions{}
	switch up {
	case upstreamTCP:
		return nil
	case upstreamHTTP1:
		opts.UpstreamProtocolOptions = explicit(&upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig{
			ProtocolConfig: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig_HttpProtocolOptions{
				HttpProtocolOptions: &corev3.Http1ProtocolOptions{},
			},
		})
	case upstreamHTTP2:
		opts.UpstreamProtocolOptions = explicit(&upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig{
			ProtocolConfig: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig_Http2ProtocolOptions{
				Http2ProtocolOptions: &corev3.Http2ProtocolOptions{},
			},
		})
	case upstreamAsDownstream:
		opts.UpstreamProtocolOptions = &upstreamhttpv3.HttpProtocolOptions_UseDownstreamProtocolConfig{
			UseDownstreamProtocolConfig: &upstreamhttpv3.HttpProtocolOptions_UseDownstreamHttpConfig{
				HttpProtocolOptions:  &corev3.Http1ProtocolOptions{},
				Http2ProtocolOptions: &corev3.Http2ProtocolOptions{},
			},
		}
	}
	return map[string]*anypb.Any{httpProtocolOptionsKey: p.pack(opts)}
}

// explicit makes the upstream speak exactly the protocol of config.
func explicit(config *upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig) *upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig_ {
	return &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig_{ExplicitHttpConfig: config}
}

// unlimited lifts Envoy's default circuit breakers (1024 connections,
// pending and active requests per cluster): a sidecar must not fail a busy
// application's requests with 503s the application never asked for.
func unlimited() *clusterv3.CircuitBreakers {
	return &clusterv3.CircuitBreakers{
		Thresholds: []*clusterv3.CircuitBreakers_Thresholds{{
			MaxConnections:     wrapperspb.UInt32(math.MaxUint32),
			MaxPendingRequests: wrapperspb.UInt32(math.MaxUint32),
			MaxRequests:        wrapperspb.UInt32(math.MaxUint32),
			MaxRetries:         wrapperspb.UInt32(math.MaxUint32),
		}},
	}
}
