package dataplane

import (
	"fmt"
	"strings"
	"testing"
)

// TestStatsPortServesOnlyMetricsAndReadiness calls the server's Envoy from
// another pod (no sidecar): the stats port answers /stats/prometheus and
// /ready and nothing else (TestAdminIsUnreachableFromTraffic tries every
// other port).
func TestStatsPortServesOnlyMetricsAndReadiness(t *testing.T) {
	t.Parallel()
	s := startShop(t)
	stats := fmt.Sprintf("http://server:%d", s.server.StatsPort)
	tests := map[string]struct {
		url        string
		wantStatus int
		wantBody   string
	}{
		"/stats/prometheus serves Envoy's metrics":     {url: stats + "/stats/prometheus", wantStatus: 200, wantBody: "envoy_cluster_upstream_rq_total"},
		"/ready serves readiness":                      {url: stats + "/ready", wantStatus: 200, wantBody: "LIVE"},
		"/stats/prometheus keeps its query string":     {url: stats + "/stats/prometheus?usedonly&filter=upstream_rq_total", wantStatus: 200, wantBody: "envoy_cluster_upstream_rq_total"},
		"/quitquitquit is not found":                   {url: stats + "/quitquitquit", wantStatus: 404},
		"/config_dump is not found":                    {url: stats + "/config_dump", wantStatus: 404},
		"/runtime_modify is not found":                 {url: stats + "/runtime_modify", wantStatus: 404},
		"/stats (the admin's JSON stats) is not found": {url: stats + "/stats?format=json", wantStatus: 404},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := s.outsider.Get(t, tc.url)
			if r.Status != tc.wantStatus {
				t.Fatalf("GET %s: status %d %s, want %d", tc.url, r.Status, r.Error, tc.wantStatus)
			}
			if !strings.Contains(r.Body, tc.wantBody) {
				t.Errorf("GET %s: body does not contain %q:\n%.300s", tc.url, tc.wantBody, r.Body)
			}
		})
	}

	t.Run("the server's Envoy is still running after all that", func(t *testing.T) {
		if r := s.outsider.Get(t, stats+"/ready"); r.Status != 200 {
			t.Errorf("/ready: status %d %s", r.Status, r.Error)
		}
	})
}
