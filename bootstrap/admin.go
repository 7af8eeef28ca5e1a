package bootstrap

import (
	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"

	"github.com/planeless/planeless/proxy"
)

// adminClusterName is the stats listener's route to the admin interface.
const adminClusterName = "admin"

// AdminPaths are the only admin endpoints Envoy serves (others answer 403),
// even on loopback: read-only diagnostics for `kubectl port-forward`, and
// the endpoints a preStop hook needs to drain. Anything that changes
// Envoy's state beyond draining (/quitquitquit, /runtime_modify, /logging,
// /reset_counters, /cpuprofiler, /heapprofiler) stays off.
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

// admin binds Envoy's admin interface to loopback only, without an access
// log (omitting it is how Envoy's admin logs nothing).
func admin(s *proxy.Spec) *bootstrapv3.Admin {
	allow := make([]*matcherv3.StringMatcher, len(AdminPaths))
	for i, path := range AdminPaths {
		allow[i] = &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: path}}
	}
	return &bootstrapv3.Admin{
		Address:    socketAddress(loopbackV4, s.Proxy.Ports.Admin),
		AllowPaths: allow,
	}
}

// adminCluster lets the stats listener reach the admin interface.
func (p *packer) adminCluster(s *proxy.Spec) *clusterv3.Cluster {
	return p.localCluster(adminClusterName, s.Proxy.Ports.Admin, upstreamHTTP1)
}
