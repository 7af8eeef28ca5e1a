package bootstrap

import (
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/planeless/planeless/proxy"
)

// A sidecar must not cut what the application would not: no route
// timeout (Envoy's default of 15 s would end server-sent events, long
// polls and slow downloads), only Envoy's stream idle timeout (5 min of
// silence) and a bound on the time a client takes to send its request
// headers, against slow-header clients holding connections open.
const requestHeadersTimeout = 10 * time.Second

// direction says which way a request travels through the proxy; it names
// stat prefixes and fills the access log's direction field.
type direction string

const (
	inbound  direction = "inbound"
	outbound direction = "outbound"
)

const (
	hcmName    = "envoy.filters.network.http_connection_manager"
	routerName = "envoy.filters.http.router"
)

// httpConnectionManager is the network filter of every HTTP chain: codec
// AUTO (HTTP/1.1 and h2c alike), websocket upgrades, an access log line per
// request, the given HTTP filters, gRPC status counting and the router last.
func (p *packer) httpConnectionManager(s *proxy.Spec, d direction, statPrefix string, vhost *routev3.VirtualHost, filters ...*hcmv3.HttpFilter) *listenerv3.Filter {
	return p.networkFilter(hcmName, p.connectionManager(s, d, statPrefix, []*routev3.VirtualHost{vhost}, filters...))
}

// connectionManager is httpConnectionManager's config, with several
// virtual hosts, for the outbound side to add to.
func (p *packer) connectionManager(s *proxy.Spec, d direction, statPrefix string, vhosts []*routev3.VirtualHost, filters ...*hcmv3.HttpFilter) *hcmv3.HttpConnectionManager {
	routes := &routev3.RouteConfiguration{
		Name:         statPrefix,
		VirtualHosts: vhosts,
	}
	// Tell the other side's sidecar who this is, for its access log.
	self := []*corev3.HeaderValueOption{{
		Header:       &corev3.HeaderValue{Key: WorkloadHeader, Value: escapeFormat(workloadOf(s))},
		AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
	}}
	if d == outbound {
		routes.RequestHeadersToAdd = self
	} else {
		routes.ResponseHeadersToAdd = self
	}
	hcm := &hcmv3.HttpConnectionManager{
		StatPrefix:     statPrefix,
		CodecType:      hcmv3.HttpConnectionManager_AUTO,
		RouteSpecifier: &hcmv3.HttpConnectionManager_RouteConfig{RouteConfig: routes},
		Tracing:        p.tracing(s),
		HttpFilters:    append(filters, p.grpcStats(), p.router()),
		UpgradeConfigs: []*hcmv3.HttpConnectionManager_UpgradeConfig{{UpgradeType: "websocket"}},
		AccessLog:      p.accessLog(s, d),
		// A transparent proxy keeps the application's Server header.
		ServerHeaderTransformation: hcmv3.HttpConnectionManager_PASS_THROUGH,
		RequestHeadersTimeout:      durationpb.New(requestHeadersTimeout),
	}
	if d == inbound {
		// The application sees the real client: Envoy appends the address
		// of the connection's peer to X-Forwarded-For (and trusts no
		// X-Forwarded-For a caller sends to say who it is). A caller's
		// x-request-id is kept, so both sides' access logs share it.
		hcm.UseRemoteAddress = wrapperspb.Bool(true)
		hcm.PreserveExternalRequestId = true
	}
	return hcm
}

func (p *packer) router() *hcmv3.HttpFilter {
	return &hcmv3.HttpFilter{
		Name:       routerName,
		ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: p.pack(&routerv3.Router{})},
	}
}

func (p *packer) networkFilter(name string, config validatable) *listenerv3.Filter {
	return &listenerv3.Filter{
		Name:       name,
		ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: p.pack(config)},
	}
}

// anyHost is the one virtual host of a sidecar's route table: the
// destination was chosen by the listener, not by the Host header.
func anyHost(name string, routes ...*routev3.Route) *routev3.VirtualHost {
	return &routev3.VirtualHost{Name: name, Domains: []string{"*"}, Routes: routes}
}

// grpcOnlyRoute sends every request to cluster, with neither a route
// timeout (unless planeless.dev/timeout sets one) nor a stream idle
// timeout, so that long-lived and quiet streams are never cut; a client's
// grpc-timeout header still bounds its call.
func grpcOnlyRoute(cluster string, timeout time.Duration) *routev3.Route {
	return grpcRouteMatching(cluster, timeout, &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}})
}

// grpcRoute sends gRPC requests (content-type application/grpc*) to
// cluster, with no stream idle timeout and the pod's route timeout.
func grpcRoute(cluster string, timeout time.Duration) *routev3.Route {
	return grpcRouteMatching(cluster, timeout, &routev3.RouteMatch{
		PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"},
		Grpc:          &routev3.RouteMatch_GrpcRouteMatchOptions{},
	})
}

func grpcRouteMatching(cluster string, timeout time.Duration, match *routev3.RouteMatch) *routev3.Route {
	return &routev3.Route{
		Name:  "grpc",
		Match: match,
		Action: &routev3.Route_Route{Route: &routev3.RouteAction{
			ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: cluster},
			Timeout:          durationpb.New(timeout),
			IdleTimeout:      durationpb.New(0),
			MaxStreamDuration: &routev3.RouteAction_MaxStreamDuration{
				GrpcTimeoutHeaderMax: durationpb.New(0),
			},
		}},
	}
}

// restRoute sends every request to cluster, with the pod's route timeout
// (none by default).
func restRoute(cluster string, timeout time.Duration) *routev3.Route {
	return &routev3.Route{
		Name:  "http",
		Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
		Action: &routev3.Route_Route{Route: &routev3.RouteAction{
			ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: cluster},
			Timeout:          durationpb.New(timeout),
		}},
	}
}
