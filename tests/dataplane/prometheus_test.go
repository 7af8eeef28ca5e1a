package dataplane

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/planeless/planeless/tests/harness"
)

// inbound selects the server side of every sidecar: its inbound clusters.
const inbound = `envoy_cluster_name=~"inbound\\|.*"`

// TestPrometheusScrapesTheSidecars runs a real Prometheus configured from
// the pods' prometheus.io/* annotations and asks it for the golden signals
// by namespace, app and version (the stats tags the bootstrap stamps on
// every metric), after a known mix of requests to two versions of a
// server.
func TestPrometheusScrapesTheSidecars(t *testing.T) {
	t.Parallel()
	s := startShop(t)
	canary := harness.Inject(t, filepath.Join("testdata", "canary.yaml"))[0]
	v2 := s.h.Start(t, canary, harness.PodOptions{Apps: map[string][]string{"web": {"rest", "-listen", ":8080", "-name", "server-v2"}}})
	prom := s.h.StartPrometheus(t, s.h.Pods())

	send := func(t *testing.T, n int, url string, status int) {
		for range n {
			if r := s.client.Get(t, url); r.Status != status {
				t.Fatalf("GET %s: status %d %s, want %d", url, r.Status, r.Error, status)
			}
		}
	}
	send(t, 6, "http://server:8080/ok", 200)
	send(t, 2, "http://server:8080/fail?status=500", 500)
	send(t, 3, "http://server-v2:8080/ok", 200)
	send(t, 1, "http://server-v2:8080/fail?status=503", 503)
	for range 2 {
		if r := s.client.GRPC(t, "-target", "server:9090"); r.Code != "OK" {
			t.Fatalf("gRPC: %s %s", r.Code, r.Message)
		}
	}

	byWorkload := func(r harness.Result) string {
		return r.Labels["namespace"] + "/" + r.Labels["app"] + "/" + r.Labels["version"]
	}
	tests := map[string]struct {
		query string
		key   func(harness.Result) string
		want  map[string]float64
	}{
		"requests received, by namespace/app/version": {
			query: `sum by (namespace, app, version) (envoy_cluster_upstream_rq_total{` + inbound + `})`,
			key:   byWorkload,
			want:  map[string]float64{"shop/server/v1": 10, "shop/server/v2": 4, "shop/client/v2": 0},
		},
		"error ratio (5xx over all), by namespace/app/version": {
			query: `sum by (namespace, app, version) (envoy_cluster_upstream_rq_xx{` + inbound + `, envoy_response_code_class="5"})
			        / sum by (namespace, app, version) (envoy_cluster_upstream_rq_total{` + inbound + `})`,
			key:  byWorkload,
			want: map[string]float64{"shop/server/v1": 0.2, "shop/server/v2": 0.25},
		},
		"latency observations (the p99's histogram), by namespace/app/version": {
			query: `sum by (namespace, app, version) (envoy_cluster_upstream_rq_time_count{` + inbound + `})`,
			key:   byWorkload,
			want:  map[string]float64{"shop/server/v1": 10, "shop/server/v2": 4},
		},
		"planeless request metrics: requests served, by namespace/app/version": {
			query: `sum by (namespace, app, version) (envoy_planeless_requests_total{direction="inbound"})`,
			key:   byWorkload,
			want:  map[string]float64{"shop/server/v1": 10, "shop/server/v2": 4},
		},
		"planeless request metrics: error ratio, by namespace/app/version": {
			query: `sum by (namespace, app, version) (envoy_planeless_requests_total{direction="inbound", response_code=~"0|5.."})
			        / sum by (namespace, app, version) (envoy_planeless_requests_total{direction="inbound"})`,
			key:  byWorkload,
			want: map[string]float64{"shop/server/v1": 0.2, "shop/server/v2": 0.25},
		},
		"planeless request metrics: latency observations, by namespace/app/version": {
			query: `sum by (namespace, app, version) (envoy_planeless_request_duration_milliseconds_count{direction="inbound"})`,
			key:   byWorkload,
			want:  map[string]float64{"shop/server/v1": 10, "shop/server/v2": 4},
		},
		"planeless request metrics: requests sent by the client, per destination": {
			query: `sum by (app, destination) (envoy_planeless_requests_total{direction="outbound"})`,
			key:   func(r harness.Result) string { return r.Labels["app"] + " -> " + r.Labels["destination"] },
			want:  map[string]float64{"client -> server:8080": 8, "client -> server-v2:8080": 4, "client -> server:9090": 2},
		},
		"planeless request metrics: error ratio, per destination": {
			query: `sum by (app, destination) (envoy_planeless_requests_total{direction="outbound", response_code=~"0|5.."})
			        / sum by (app, destination) (envoy_planeless_requests_total{direction="outbound"})`,
			key:  func(r harness.Result) string { return r.Labels["app"] + " -> " + r.Labels["destination"] },
			want: map[string]float64{"client -> server:8080": 0.25, "client -> server-v2:8080": 0.25},
		},
		"planeless request metrics: latency observations, per destination": {
			query: `sum by (app, destination) (envoy_planeless_request_duration_milliseconds_count{direction="outbound"})`,
			key:   func(r harness.Result) string { return r.Labels["app"] + " -> " + r.Labels["destination"] },
			want:  map[string]float64{"client -> server:8080": 8, "client -> server-v2:8080": 4, "client -> server:9090": 2},
		},
		"requests sent by the client, per destination": {
			query: `sum by (envoy_cluster_name) (envoy_cluster_upstream_rq_total{app="client", envoy_cluster_name=~"DFPCluster.*"})`,
			key:   func(r harness.Result) string { return r.Labels["envoy_cluster_name"] },
			want: map[string]float64{
				fmt.Sprintf("DFPCluster_%s_8080", s.server.IP): 8,
				fmt.Sprintf("DFPCluster_%s_8080", v2.IP):       4,
				fmt.Sprintf("DFPCluster_%s_9090", s.server.IP): 2,
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			// Prometheus scrapes every second and Envoy flushes histograms
			// every few seconds: wait for the numbers to settle.
			var got map[string]float64
			deadline := time.Now().Add(30 * time.Second)
			for {
				got = queryMap(t, prom, tc.query, tc.key)
				if cmp.Equal(tc.want, got, cmp.Comparer(approx)) || time.Now().After(deadline) {
					break
				}
				time.Sleep(500 * time.Millisecond)
			}
			if diff := cmp.Diff(tc.want, got, cmp.Comparer(approx)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tc.query, diff)
			}
		})
	}

	// Rates and quantiles are extrapolated: their series must be the
	// right ones, with a positive finite value. A series Envoy creates on
	// its first request starts with that value, which rate() cannot see:
	// keep a trickle of requests going (the exact counts are checked).
	for name, query := range map[string]string{
		"request rate, by namespace/app/version":                            `sum by (namespace, app, version) (rate(envoy_cluster_upstream_rq_total{` + inbound + `}[1m])) > 0`,
		"p99 latency, by namespace/app/version":                             `histogram_quantile(0.99, sum by (namespace, app, version, le) (rate(envoy_cluster_upstream_rq_time_bucket{` + inbound + `}[1m]))) >= 0`,
		"planeless request metrics: request rate, by namespace/app/version": `sum by (namespace, app, version) (rate(envoy_planeless_requests_total{direction="inbound"}[1m])) > 0`,
		"planeless request metrics: p99 latency, by namespace/app/version":  `histogram_quantile(0.99, sum by (namespace, app, version, le) (rate(envoy_planeless_request_duration_milliseconds_bucket{direction="inbound"}[1m]))) >= 0`,
	} {
		t.Run(name, func(t *testing.T) {
			want := []string{"shop/server/v1", "shop/server/v2"}
			var got []string
			deadline := time.Now().Add(30 * time.Second)
			for {
				send(t, 1, "http://server:8080/more", 200)
				send(t, 1, "http://server-v2:8080/more", 200)
				got = nil
				for k, v := range queryMap(t, prom, query, byWorkload) {
					if !math.IsNaN(v) && !math.IsInf(v, 0) {
						got = append(got, k)
					}
				}
				if cmp.Equal(want, got, sortStrings) || time.Now().After(deadline) {
					break
				}
				time.Sleep(500 * time.Millisecond)
			}
			if diff := cmp.Diff(want, got, sortStrings); diff != "" {
				t.Errorf("%s: series (-want +got):\n%s", query, diff)
			}
		})
	}
}

var sortStrings = cmpopts.SortSlices(func(a, b string) bool { return a < b })

func approx(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func queryMap(t *testing.T, prom *harness.Prometheus, query string, key func(harness.Result) string) map[string]float64 {
	t.Helper()
	results, err := prom.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, r := range results {
		k := key(r)
		if _, dup := got[k]; dup {
			t.Fatalf("%s: two series for %s: %v", query, k, results)
		}
		got[k] = r.Value
	}
	return got
}
