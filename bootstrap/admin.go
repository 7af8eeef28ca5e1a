package bootstrap

import (
	"regexp"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/planeless/planeless/proxy"
)

// Envoy's admin interface listens on a Unix socket, not on a TCP port: no
// connection the pod's traffic can make reaches it, whatever its address or
// Host header. The socket lives in an emptyDir that only the proxy
// container mounts (AdminDir), and only Envoy's user may open it.
const (
	AdminDir    = proxy.AdminDir
	AdminSocket = proxy.AdminSocket
	// adminSocketMode lets only the socket's owner, Envoy's user, connect.
	adminSocketMode = 0o600
)

// adminClusterName is the stats listener's route to the admin interface.
const adminClusterName = "admin"

// AdminPaths are the only admin endpoints Envoy serves (others answer 403),
// to whoever reaches the socket: read-only diagnostics (`kubectl exec` into
// the proxy, or the stats listener's two paths), and draining. Anything that
// changes Envoy's state beyond draining (/quitquitquit, /runtime_modify,
// /logging, /reset_counters, /cpuprofiler, /heapprofiler) stays off.
var AdminPaths = []string{
	"/certs",
	"/clusters",
	"/config_dump",
	"/drain_listeners",
	"/healthcheck/fail",
	"/healthcheck/ok",
	"/help",
	"/listeners",
	"/memory",
	ReadyPath,
	"/server_info",
	"/stats",
	PrometheusPath,
}

func adminAddress() *corev3.Address {
	return &corev3.Address{Address: &corev3.Address_Pipe{Pipe: &corev3.Pipe{Path: AdminSocket, Mode: adminSocketMode}}}
}

// admin binds Envoy's admin interface to AdminSocket, without an access
// log (omitting it is how Envoy's admin logs nothing).
func admin() *bootstrapv3.Admin {
	// Envoy matches the path with its query string: each path is allowed
	// with any query (?usedonly, ?graceful), and only that path.
	allow := make([]*matcherv3.StringMatcher, len(AdminPaths))
	for i, path := range AdminPaths {
		allow[i] = &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{
			Regex: "^" + regexp.QuoteMeta(path) + `(\?.*)?$`,
		}}}
	}
	return &bootstrapv3.Admin{
		Address:    adminAddress(),
		AllowPaths: allow,
	}
}

// adminCluster lets the stats listener reach the admin interface through
// its socket.
func (p *packer) adminCluster() *clusterv3.Cluster {
	return &clusterv3.Cluster{
		Name:                          adminClusterName,
		ClusterDiscoveryType:          &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STATIC},
		ConnectTimeout:                durationpb.New(localConnectTimeout),
		TypedExtensionProtocolOptions: p.protocolOptions(upstreamHTTP1),
		LoadAssignment: &endpointv3.ClusterLoadAssignment{
			ClusterName: adminClusterName,
			Endpoints: []*endpointv3.LocalityLbEndpoints{{
				LbEndpoints: []*endpointv3.LbEndpoint{{
					HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{Address: adminAddress()}},
				}},
			}},
		},
	}
}
