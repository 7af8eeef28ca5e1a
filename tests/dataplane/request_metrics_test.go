package dataplane

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/planeless/planeless/bootstrap"
	"github.com/planeless/planeless/tests/harness"
)

// TestPerDestinationMetrics sends a known mix of REST and gRPC requests
// from the client to the server and reads, on both sidecars, the metrics
// the docs, the dashboard and the alerts are built on, with their exact
// names and labels.
func TestPerDestinationMetrics(t *testing.T) {
	t.Parallel()
	s := startShop(t)
	for range 3 {
		if r := s.client.Get(t, "http://server:8080/ok"); r.Status != 200 {
			t.Fatalf("status %d %s, want 200", r.Status, r.Error)
		}
	}
	if r := s.client.Get(t, "http://server:8080/fail?status=503"); r.Status != 503 {
		t.Fatalf("status %d %s, want 503", r.Status, r.Error)
	}
	for _, call := range []struct{ code, want string }{{"0", "OK"}, {"14", "Unavailable"}, {"14", "Unavailable"}} {
		if r := s.client.GRPC(t, "-target", "server:8080", "-code", call.code); r.Code != call.want {
			t.Fatalf("gRPC: %s %s, want %s", r.Code, r.Message, call.want)
		}
	}
	const sent = 7
	client, server := settledStats(t, s.client, "outbound", sent), settledStats(t, s.server, "inbound", sent)

	clientIs := map[string]string{"namespace": "shop", "app": "client", "version": "v2"}
	serverIs := map[string]string{"namespace": "shop", "app": "server", "version": "v1"}
	with := func(self map[string]string, labels ...string) map[string]string {
		out := maps.Clone(self)
		for i := 0; i+1 < len(labels); i += 2 {
			out[labels[i]] = labels[i+1]
		}
		return out
	}
	serverIP := s.server.IP.String()
	tests := map[string]struct {
		scrape harness.Metrics
		metric string
		labels map[string]string
		want   float64
	}{
		"outbound requests are counted per destination, as the app named it": {
			client, bootstrap.RequestsMetric, with(clientIs, "direction", "outbound", "destination", "server:8080"), sent,
		},
		"outbound HTTP errors are counted per destination and status": {
			client, bootstrap.RequestsMetric, with(clientIs, "direction", "outbound", "destination", "server:8080", "response_code", "503"), 1,
		},
		"outbound gRPC status codes are counted per destination": {
			client, bootstrap.RequestsMetric, with(clientIs, "direction", "outbound", "destination", "server:8080", "grpc_status", "14", "response_code", "200"), 2,
		},
		"the outbound side names itself and the workload that answered": {
			client, bootstrap.RequestsMetric, with(clientIs, "direction", "outbound", "source_workload", "client.shop", "destination_workload", "server.shop"), sent,
		},
		"the inbound side names itself and the port that was called": {
			server, bootstrap.RequestsMetric, with(serverIs, "direction", "inbound", "destination", "server.shop:8080", "destination_workload", "server.shop"), sent,
		},
		"outbound latency is observed per destination": {
			client, bootstrap.RequestDurationMetric + "_count", with(clientIs, "direction", "outbound", "destination", "server:8080"), sent,
		},
		"inbound latency is observed per port called": {
			server, bootstrap.RequestDurationMetric + "_count", with(serverIs, "direction", "inbound", "destination", "server.shop:8080"), sent,
		},
		"the latency histogram has buckets": {
			client, bootstrap.RequestDurationMetric + "_bucket", with(clientIs, "direction", "outbound", "destination", "server:8080", "le", "+Inf"), sent,
		},
		"the destination's own cluster counts its requests, the dialled IP and port as labels": {
			client, "envoy_cluster_upstream_rq_total", with(clientIs,
				"envoy_cluster_name", fmt.Sprintf("DFPCluster_%s_8080", serverIP), "destination_host", serverIP, "destination_port", "8080"), sent,
		},
		"the gRPC stats filter counts codes per inbound cluster": {
			server, "envoy_cluster_grpc", with(serverIs, "envoy_cluster_name", "inbound|grpc", "grpc_status", "14"), 2,
		},
		"the gRPC stats filter counts codes on the outbound side": {
			client, "envoy_cluster_grpc", with(clientIs, "envoy_cluster_name", "outbound|http", "grpc_status", "0"), 1,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tc.scrape.Sum(tc.metric, tc.labels); got != tc.want {
				t.Errorf("sum of %s%v = %v, want %v; series:\n%v", tc.metric, tc.labels, got, tc.want, tc.scrape.Select(tc.metric, nil))
			}
		})
	}

	t.Run("the inbound side has no label the caller chooses", func(t *testing.T) {
		// Only what the server knows itself: no source_workload, which
		// would be whatever header the caller sent.
		want := []string{"app", "destination", "destination_workload", "direction", "grpc_status", "namespace", "response_code", "response_flags", "version"}
		series := server.Select(bootstrap.RequestsMetric, map[string]string{"direction": "inbound"})
		if len(series) == 0 {
			t.Fatal("no inbound series")
		}
		for _, s := range series {
			if got := slices.Sorted(maps.Keys(s.Labels)); !slices.Equal(got, want) {
				t.Errorf("inbound series with labels %v, want %v", got, want)
			}
		}
	})
	for name, p := range map[string]struct {
		scrape harness.Metrics
		self   map[string]string
	}{"client": {client, clientIs}, "server": {server, serverIs}} {
		t.Run("every metric of the "+name+" carries its namespace, app and version", func(t *testing.T) {
			if len(p.scrape) < 100 {
				t.Fatalf("only %d samples", len(p.scrape))
			}
			for _, sample := range p.scrape {
				// Envoy creates these few process-wide stats before it
				// reads stats_config, so they have no tags.
				if strings.HasPrefix(sample.Name, "envoy_filesystem_") || strings.HasPrefix(sample.Name, "envoy_server_stats_overflow_") {
					continue
				}
				for k, v := range p.self {
					if sample.Labels[k] != v {
						t.Errorf("%s%v has %s=%q, want %q", sample.Name, sample.Labels, k, sample.Labels[k], v)
						break
					}
				}
			}
		})
	}
	t.Run("a destination's sub-cluster gets no response codes: the router charges them to the forward proxy's parent", func(t *testing.T) {
		// Why the request metrics exist: if this starts failing, Envoy's
		// own cluster stats became per destination.
		if got := client.Sum("envoy_cluster_upstream_rq_xx", map[string]string{"destination_host": serverIP}); got != 0 {
			t.Errorf("sub-cluster upstream_rq_xx = %v", got)
		}
		if got := client.Sum("envoy_cluster_upstream_rq_xx", map[string]string{"envoy_cluster_name": "outbound|http"}); got != sent {
			t.Errorf("outbound|http upstream_rq_xx = %v, want %d", got, sent)
		}
	})
}

// settledStats scrapes p until its request duration histogram of direction
// has observed n requests (Envoy publishes histograms at its stats flush,
// every 5 s; counters at once), for at most a minute, and returns the last
// scrape.
// A request the application gives up on before any answer is still
// counted, to the destination it named: the client's sidecar counts it
// with destination_workload unknown (no server named itself), response
// code 0 and response_flags DC (docs/metrics.md).
func TestARequestWithoutAnAnswerIsStillCounted(t *testing.T) {
	t.Parallel()
	s := startShop(t)
	out, err := s.client.Exec(t.Context(), s.client.AppUID, "testapp", "get", "-timeout", "1s", "http://server:8080/slow?delay=3s")
	if err != nil || !strings.Contains(out, "Timeout") {
		t.Fatalf("the app did not give up waiting: %v %s", err, out)
	}
	gaveUp := map[string]string{"direction": "outbound", "response_flags": "DC"}
	deadline := time.Now().Add(time.Minute)
	for {
		m := s.client.Stats(t).Select(bootstrap.RequestsMetric, gaveUp)
		if len(m) == 1 {
			labels := m[0].Labels
			if m[0].Value != 1 || labels["destination"] != "server:8080" || labels["destination_workload"] != bootstrap.UnknownWorkload || labels["response_code"] != "0" {
				t.Errorf("the unanswered request is counted as %+v; want once, to destination server:8080, destination_workload %q (no server answered), response code 0",
					m[0], bootstrap.UnknownWorkload)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the unanswered request is not counted: %d series with response_flags DC", len(m))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func settledStats(t *testing.T, p *harness.Pod, direction string, n float64) harness.Metrics {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		m := p.Stats(t)
		if m.Sum(bootstrap.RequestDurationMetric+"_count", map[string]string{"direction": direction}) >= n || time.Now().After(deadline) {
			return m
		}
		time.Sleep(200 * time.Millisecond)
	}
}
