package bootstrap

import (
	grpcstatsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/grpc_stats/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

const grpcStatsName = "envoy.filters.http.grpc_stats"

// grpcStats counts gRPC calls by grpc-status on the cluster the request was
// routed to: cluster.<cluster>.grpc.<code>, .success, .failure and .total
// (Prometheus: envoy_cluster_grpc_<code> and so on). On the outbound side
// the cluster is the destination's own sub-cluster, so the codes are
// counted per destination service; on the inbound side per port.
//
// The counts are aggregated over gRPC services and methods: per-method stat
// names come from the request path, which any caller chooses, so they would
// let any client grow the proxy's memory and Prometheus' series without
// bound. The method of a call is in its access log line (path).
func (p *packer) grpcStats() *hcmv3.HttpFilter {
	return &hcmv3.HttpFilter{
		Name: grpcStatsName,
		ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: p.pack(&grpcstatsv3.FilterConfig{
			PerMethodStatSpecifier: &grpcstatsv3.FilterConfig_StatsForAllMethods{StatsForAllMethods: wrapperspb.Bool(false)},
		})},
	}
}
