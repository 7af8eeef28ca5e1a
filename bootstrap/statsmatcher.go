package bootstrap

import (
	metricsv3 "github.com/envoyproxy/go-control-plane/envoy/config/metrics/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
)

// An idle sidecar's Envoy creates some 2,200 series (320 KB a scrape):
// every cluster, listener and connection manager gets dozens of counters,
// gauges and histograms nobody reads. The stats matcher keeps only the
// stats planeless documents (docs/metrics.md), and that its dashboard,
// alert rules and tests read: Envoy does not even create the others,
// which saves their memory as well as the scrape.
//
// Kept, by Envoy's stat name (before tags are extracted):
//
//   - planeless.*: the request metrics and egress refusals;
//   - server: live, state, uptime, concurrency, memory, connections;
//   - per cluster: requests (total, by code and class, latency, retries,
//     per-try timeouts, timeouts), connections (total, active, failed,
//     bytes) and the gRPC stats filter's codes;
//   - per connection manager of the sidecar's own listeners (inbound_*,
//     outbound_*): requests (total, by class), connections, requests with
//     no route, RBAC refusals and injected faults;
//   - per listener (by its IPv4 address, as Envoy names it; not the
//     admin interface's, not per worker): connections (total, active);
//   - per TCP proxy: connections and bytes.
//
// Envoy rejects a regular expression whose program is larger than 100
// (its default limit), so each is small; the cluster name part matches
// the forward proxy's sub-clusters, whose names hold dots
// (DFPCluster:10.96.0.12:9090), and any other name up to its first dot,
// so that the router's per-zone and internal/external copies of a
// cluster's stats (cluster.<name>.internal.upstream_rq_200) stay out.
const clusterStat = `^cluster\.(DFPCluster[:_][^:_]+[:_]\d+|[^.]+)\.`

var keptStats = []*matcherv3.StringMatcher{
	prefix(requestMetricsScope + "."),
	exact("server.live"), exact("server.state"), exact("server.uptime"), exact("server.concurrency"),
	exact("server.total_connections"), prefix("server.memory_"),
	regex(clusterStat + `upstream_rq_(total|time|\dxx|\d\d\d)$`),
	regex(clusterStat + `upstream_rq_(retry|retry_success|per_try_timeout|timeout)$`),
	regex(clusterStat + `upstream_cx_(total|active|connect_fail|connect_timeout)$`),
	regex(clusterStat + `upstream_cx_(rx|tx)_bytes_total$`),
	regex(clusterStat + `grpc\.[^.]+$`),
	regex(`^http\.(inbound|outbound)_[^.]+\.downstream_rq_(total|\dxx)$`),
	regex(`^http\.(inbound|outbound)_[^.]+\.(downstream_cx_(total|active)|no_route)$`),
	regex(`^http\.(inbound|outbound)_[^.]+\.(rbac\.denied|fault\.(aborts|delays)_injected)$`),
	regex(`^listener\.[0-9.]+_\d+\.downstream_cx_(total|active)$`),
	regex(`^tcp\.[^.]+\.downstream_cx_(total|rx_bytes_total|tx_bytes_total)$`),
}

// statsMatcher is the bootstrap's inclusion list: keptStats.
func statsMatcher() *metricsv3.StatsMatcher {
	return &metricsv3.StatsMatcher{StatsMatcher: &metricsv3.StatsMatcher_InclusionList{
		InclusionList: &matcherv3.ListStringMatcher{Patterns: keptStats},
	}}
}

func prefix(p string) *matcherv3.StringMatcher {
	return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Prefix{Prefix: p}}
}

func exact(s string) *matcherv3.StringMatcher {
	return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: s}}
}

func regex(r string) *matcherv3.StringMatcher {
	return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: r}}}
}
