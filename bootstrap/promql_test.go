package bootstrap_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/planeless/planeless/bootstrap"
	"github.com/planeless/planeless/tests/harness"
	"github.com/planeless/planeless/tests/need"
	"github.com/planeless/planeless/tests/promql"
)

// TestShippedPromQLUsesRealMetricNames checks every PromQL expression of
// the dashboard, the alerts and docs/metrics.md against what the real Envoy
// serves with our bootstrap after HTTP and gRPC traffic: every metric name
// exists, and every label it matches on or groups by is a label of one of
// its metrics.
func TestShippedPromQLUsesRealMetricNames(t *testing.T) {
	t.Parallel()
	exprs, err := promql.All(need.RepoRoot())
	if err != nil {
		t.Fatal(err)
	}
	if len(exprs) < 20 {
		t.Fatalf("found only %d expressions; the extraction is broken", len(exprs))
	}

	app := statusApp(t)
	d, _ := meshEnvoy(t, app)
	dest := fmt.Sprintf("127.0.0.2:%d", app)
	send(t, http.DefaultClient, d.Ports.Outbound, dest, "/ok", "text/plain")
	send(t, http.DefaultClient, d.Ports.Outbound, dest, "/fail?status=500", "text/plain")
	send(t, h2c(), d.Ports.Outbound, dest, "/svc.Echo/Say?grpc=14", "application/grpc")
	var m harness.Metrics
	deadline := time.Now().Add(60 * time.Second)
	for {
		m = scrape(t, d.Ports.Stats)
		if m.Sum(bootstrap.RequestDurationMetric+"_count", nil) >= 6 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	labels := map[string]map[string]bool{}
	for _, s := range m {
		if labels[s.Name] == nil {
			labels[s.Name] = map[string]bool{}
		}
		for k := range s.Labels {
			labels[s.Name][k] = true
		}
	}

	for _, e := range exprs {
		t.Run(e.Source, func(t *testing.T) {
			metrics := promql.Metrics(e.Query)
			if len(metrics) == 0 {
				t.Fatalf("no envoy_ metric in %s", e.Query)
			}
			for _, name := range metrics {
				if labels[name] == nil {
					t.Errorf("metric %s is not served by Envoy", name)
				}
			}
			for _, l := range promql.Labels(e.Query) {
				found := false
				for _, name := range metrics {
					found = found || labels[name][l]
				}
				if !found {
					t.Errorf("label %s is on none of %v", l, metrics)
				}
			}
		})
	}
}
