package promql

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSelectors(t *testing.T) {
	tests := map[string]struct {
		query string
		want  []Selector
	}{
		"a selector keeps its literal equality matchers only": {
			query: `sum by (app) (rate(envoy_planeless_requests_total{direction="inbound", app=~"$app", response_code=~"5..", grpc_status!="", namespace="$namespace"}[5m]))`,
			want:  []Selector{{Metric: "envoy_planeless_requests_total", Equal: map[string]string{"direction": "inbound"}}},
		},
		"every selector of a metric is one, and a longer name is another metric": {
			query: `sum(envoy_cluster_grpc{envoy_cluster_name="outbound|http"}) / sum(envoy_cluster_grpc_total) / sum(envoy_cluster_grpc)`,
			want: []Selector{
				{Metric: "envoy_cluster_grpc", Equal: map[string]string{"envoy_cluster_name": "outbound|http"}},
				{Metric: "envoy_cluster_grpc", Equal: map[string]string{}},
				{Metric: "envoy_cluster_grpc_total", Equal: map[string]string{}},
			},
		},
		"a label named like a metric is no selector": {
			query: `sum by (envoy_cluster_name) (envoy_cluster_upstream_rq_total{envoy_cluster_name=~"DFPCluster_.*"})`,
			want:  []Selector{{Metric: "envoy_cluster_upstream_rq_total", Equal: map[string]string{}}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Selectors(tc.query)); diff != "" {
				t.Errorf("Selectors(%s) (-want +got):\n%s", tc.query, diff)
			}
		})
	}
}
