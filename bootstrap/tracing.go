package bootstrap

import (
	"net"
	"net/netip"
	"strconv"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	tracev3 "github.com/envoyproxy/go-control-plane/envoy/config/trace/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/planeless/planeless/proxy"
)

const (
	// tracingCluster is the collector spans are sent to.
	tracingCluster = "tracing"

	zipkinTracerName = "envoy.tracers.zipkin"
	otlpTracerName   = "envoy.tracers.opentelemetry"

	// ZipkinSpansPath is Zipkin's v2 span endpoint (JSON over HTTP).
	ZipkinSpansPath = "/api/v2/spans"

	collectorTimeout = 5 * time.Second
)

// TraceHeaders lists, per provider, the request headers an application
// must copy from each request it receives to the requests it makes while
// serving it, for the sidecars' spans to join one trace (copy those
// present). x-request-id also carries Envoy's sampling decision.
var TraceHeaders = map[proxy.TracingProvider][]string{
	proxy.TracingZipkin: {
		"x-request-id",
		"x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled", "x-b3-flags", "b3",
		"traceparent", "tracestate",
	},
	proxy.TracingOTLP: {"x-request-id", "traceparent", "tracestate"},
}

// tracing returns the connection manager's tracing config, or nil when the
// pod does not trace. Envoy makes the sampling decision on the first
// sidecar a request meets (random_sampling) and carries it in x-request-id
// and the trace headers, so every later sidecar follows it.
func (p *packer) tracing(s *proxy.Spec) *hcmv3.HttpConnectionManager_Tracing {
	var provider *tracev3.Tracing_Http
	switch s.Tracing.Provider {
	case proxy.TracingZipkin:
		provider = &tracev3.Tracing_Http{
			Name: zipkinTracerName,
			ConfigType: &tracev3.Tracing_Http_TypedConfig{TypedConfig: p.pack(&tracev3.ZipkinConfig{
				CollectorService: &corev3.HttpService{HttpUri: &corev3.HttpUri{
					Uri:              "http://" + s.Tracing.Endpoint + ZipkinSpansPath,
					HttpUpstreamType: &corev3.HttpUri_Cluster{Cluster: tracingCluster},
					Timeout:          durationpb.New(collectorTimeout),
				}},
				CollectorEndpointVersion: tracev3.ZipkinConfig_HTTP_JSON,
				TraceId_128Bit:           true,
				// The client's and the server's sidecar each report their
				// own span, the server's a child of the client's, as
				// Zipkin draws them best.
				SharedSpanContext: wrapperspb.Bool(false),
				// B3 and W3C trace context both in and out, so that apps
				// instrumented with either join the trace.
				TraceContextOption: tracev3.ZipkinConfig_USE_B3_WITH_W3C_PROPAGATION,
			})},
		}
	case proxy.TracingOTLP:
		provider = &tracev3.Tracing_Http{
			Name: otlpTracerName,
			ConfigType: &tracev3.Tracing_Http_TypedConfig{TypedConfig: p.pack(&tracev3.OpenTelemetryConfig{
				GrpcService: &corev3.GrpcService{
					TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: tracingCluster}},
					Timeout:         durationpb.New(collectorTimeout),
				},
				ServiceName: workloadOf(s),
			})},
		}
	default:
		return nil
	}
	return &hcmv3.HttpConnectionManager_Tracing{
		RandomSampling: &typev3.Percent{Value: s.Tracing.SamplingPercent},
		Provider:       provider,
	}
}

// tracingClusters returns the collector's cluster: a DNS name resolved by
// DNS, an IP address as is; HTTP/1.1 for Zipkin and HTTP/2 for OTLP/gRPC. Envoy's own connections bypass the iptables capture.
func (p *packer) tracingClusters(s *proxy.Spec) []*clusterv3.Cluster {
	if s.Tracing.Provider == proxy.TracingOff || s.Tracing.Provider == "" {
		return nil
	}
	host, portText, err := net.SplitHostPort(s.Tracing.Endpoint)
	port, perr := strconv.ParseUint(portText, 10, 16)
	if err != nil || perr != nil {
		// proxy.FromPod validated the endpoint; a hand-made Spec did not.
		host, port = s.Tracing.Endpoint, 0
	}
	up := upstreamHTTP1
	if s.Tracing.Provider == proxy.TracingOTLP {
		up = upstreamHTTP2
	}
	discovery, family := clusterv3.Cluster_STRICT_DNS, dnsLookupFamily
	if _, err := netip.ParseAddr(host); err == nil {
		discovery, family = clusterv3.Cluster_STATIC, clusterv3.Cluster_AUTO
	}
	return []*clusterv3.Cluster{{
		Name:                          tracingCluster,
		ClusterDiscoveryType:          &clusterv3.Cluster_Type{Type: discovery},
		DnsLookupFamily:               family,
		ConnectTimeout:                durationpb.New(remoteConnectTimeout),
		TypedExtensionProtocolOptions: p.protocolOptions(up),
		LoadAssignment: &endpointv3.ClusterLoadAssignment{
			ClusterName: tracingCluster,
			Endpoints: []*endpointv3.LocalityLbEndpoints{{
				LbEndpoints: []*endpointv3.LbEndpoint{{
					HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{
						Address: socketAddress(host, uint16(port)),
					}},
				}},
			}},
		},
	}}
}
