package bootstrap

import (
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	metricsv3 "github.com/envoyproxy/go-control-plane/envoy/config/metrics/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/planeless/planeless/proxy"
)

const (
	statsListenerName = "stats"
	// PrometheusPath and ReadyPath are the only paths the stats listener
	// serves, both from the admin interface; every other path is 404.
	PrometheusPath = "/stats/prometheus"
	ReadyPath      = proxy.ReadyPath
)

// Stats tag names: every metric carries them as Prometheus labels with the
// pod's values.
const (
	TagNamespace = "namespace"
	TagApp       = "app"
	TagVersion   = "version"
)

// Per-destination tag names: every metric of an outbound destination's
// cluster (the forward proxy's DFPCluster:<ip>:<port>, the address the
// application dialled) carries its host and port as two labels, e.g.
// destination_host="10.96.0.12", destination_port="9090". They are two
// labels, not one host:port, because Envoy turns every ':' of a stat name
// into '_' before tags are extracted (DFPCluster:10.96.0.12:9090 becomes
// the envoy_cluster_name DFPCluster_10.96.0.12_9090, see
// TestPerDestinationMetrics in tests/dataplane), and a tag value is a piece
// of the stat name. The request metrics (requestmetrics.go) name the
// destination as the application did, destination="catalog.shop.svc:9090".
const (
	TagDestinationHost = "destination_host"
	TagDestinationPort = "destination_port"
)

// clusterNameTag replaces Envoy's default envoy.cluster_name extractor,
// ^cluster\.((.+?)\.), which stops at the first dot: the forward proxy's
// per-destination clusters are named DFPCluster:<ip>:<port> (':' becomes
// '_' in stat names) and addresses have dots. A DFPCluster name runs up to its
// _<port>; every other cluster name up to the first dot, as before.
const clusterNameTag = `^cluster\.((DFPCluster[:_].+?[:_]\d+|.+?)\.)`

// destinationTag and destinationPortTag read the host and the port out of a
// sub-cluster's stat name, cluster.DFPCluster_<host>_<port>.<stat>. Envoy
// runs every extractor on the original name, so they may overlap with
// clusterNameTag; a host never contains '_' (DNS names and IP addresses do
// not), so the first _<digits>. ends it.
const (
	destinationTag     = `^cluster\.DFPCluster_((.+?)_\d+\.)`
	destinationPortTag = `^cluster\.DFPCluster_.+?_((\d+)\.)`
)

// TagGRPCStatus turns the gRPC stats filter's per-code counters,
// cluster.<cluster>.grpc.<code>, into one metric with a label:
// envoy_cluster_grpc{grpc_status="14"} instead of envoy_cluster_grpc_14.
const (
	TagGRPCStatus = "grpc_status"
	grpcStatusTag = `^cluster\..+\.grpc(\.(\d+))$`
)

// statsConfig stamps every metric with the pod's workload identity, on top
// of Envoy's default tags (cluster name, response code class, ...).
func statsConfig(s *proxy.Spec) *metricsv3.StatsConfig {
	fixed := func(name, value string) *metricsv3.TagSpecifier {
		return &metricsv3.TagSpecifier{TagName: name, TagValue: &metricsv3.TagSpecifier_FixedValue{FixedValue: value}}
	}
	return &metricsv3.StatsConfig{
		StatsTags: []*metricsv3.TagSpecifier{
			fixed(TagNamespace, s.Workload.Namespace),
			fixed(TagApp, s.Workload.App),
			fixed(TagVersion, s.Workload.Version),
			{TagName: "envoy.cluster_name", TagValue: &metricsv3.TagSpecifier_Regex{Regex: clusterNameTag}},
			{TagName: TagDestinationHost, TagValue: &metricsv3.TagSpecifier_Regex{Regex: destinationTag}},
			{TagName: TagDestinationPort, TagValue: &metricsv3.TagSpecifier_Regex{Regex: destinationPortTag}},
			{TagName: TagGRPCStatus, TagValue: &metricsv3.TagSpecifier_Regex{Regex: grpcStatusTag}},
		},
		UseAllDefaultTags:        wrapperspb.Bool(true),
		AllowDefaultTagOverrides: wrapperspb.Bool(true),
		StatsMatcher:             statsMatcher(),
	}
}

// statsListener exposes exactly PrometheusPath and ReadyPath of the admin
// interface to the pod network, for Prometheus and for probes. Nothing else
// of the admin interface is reachable from outside the pod.
func (p *packer) statsListener(s *proxy.Spec) *listenerv3.Listener {
	toAdmin := func(path string) *routev3.Route {
		return &routev3.Route{
			Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Path{Path: path}},
			Action: &routev3.Route_Route{Route: &routev3.RouteAction{
				ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: adminClusterName},
			}},
		}
	}
	notFound := &routev3.Route{
		Match:  &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
		Action: &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{Status: 404}},
	}
	// A minimal connection manager: no request ids, no access log, no
	// upgrades; only the router.
	hcm := &hcmv3.HttpConnectionManager{
		StatPrefix: statsListenerName,
		CodecType:  hcmv3.HttpConnectionManager_AUTO,
		RouteSpecifier: &hcmv3.HttpConnectionManager_RouteConfig{RouteConfig: &routev3.RouteConfiguration{
			Name:         statsListenerName,
			VirtualHosts: []*routev3.VirtualHost{anyHost(statsListenerName, toAdmin(PrometheusPath), toAdmin(ReadyPath), notFound)},
		}},
		GenerateRequestId: wrapperspb.Bool(false),
		HttpFilters: []*hcmv3.HttpFilter{{
			Name:       routerName,
			ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: p.pack(&routerv3.Router{SuppressEnvoyHeaders: true})},
		}},
	}
	l := &listenerv3.Listener{
		Name:         statsListenerName,
		FilterChains: []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{p.networkFilter(hcmName, hcm)}}},
	}
	bind(l, s.IPv6, anyV4, anyV6, s.Proxy.Ports.Stats)
	return l
}
