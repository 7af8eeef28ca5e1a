package dataplane

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/planeless/planeless/tests/harness"
	"github.com/planeless/planeless/tests/need"
	"github.com/planeless/planeless/tests/promql"
)

// TestShippedPromQLAnswers runs every PromQL expression planeless ships
// (the Grafana dashboard's panels, the example alerts, docs/metrics.md)
// against a real Prometheus scraping the shop's sidecars, while the client
// keeps calling two versions of the server with a mix that breaks the
// alerts' thresholds (a fifth of the requests fail, one in seven is slow)
// and makes gRPC calls, some failing. Every expression must return at
// least one series: the dashboard has data, the docs' queries work and the
// alerts fire.
func TestShippedPromQLAnswers(t *testing.T) {
	t.Parallel()
	exprs, err := promql.All(need.RepoRoot())
	if err != nil {
		t.Fatal(err)
	}
	s := startShop(t)
	canary := harness.Inject(t, filepath.Join("testdata", "canary.yaml"))[0]
	s.h.Start(t, canary, harness.PodOptions{
		Apps:    map[string][]string{"web": {"rest", "-listen", ":8080", "-name", "server-v2"}},
		Aliases: []string{"server-v2.shop"},
	})
	prom := s.h.StartPrometheus(t, s.h.Pods())

	batch := func() {
		for _, url := range []string{
			"http://server:8080/ok", "http://server:8080/ok", "http://server-v2:8080/ok",
			"http://server:8080/fail?status=500", "http://server-v2:8080/fail?status=503",
			"http://server:8080/slow?delay=700ms", "http://server:8080/ok",
		} {
			if r := s.client.Get(t, url); r.Status == 0 {
				t.Fatalf("GET %s: %s", url, r.Error)
			}
		}
		for _, code := range []string{"0", "14"} {
			if r := s.client.GRPC(t, "-target", "server:9090", "-code", code); r.Code == "" {
				t.Fatalf("gRPC call: %s", r.Message)
			}
		}
	}
	// Rates need a few scrapes of growing counters; histograms need
	// Envoy's stats flush (5 s).
	for warm := time.Now().Add(12 * time.Second); time.Now().Before(warm); {
		batch()
	}

	for _, e := range exprs {
		t.Run(e.Source, func(t *testing.T) {
			q := promql.Instantiate(e.Query)
			deadline := time.Now().Add(45 * time.Second)
			for {
				results, err := prom.Query(q)
				if err != nil {
					t.Fatalf("%v\n%s", err, q)
				}
				if len(results) > 0 {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("no series after 45s of traffic:\n%s", q)
				}
				batch()
			}
		})
	}
}

// TestShippedPromQLUsesRealMetricNames checks every PromQL expression of
// the dashboard, the alerts and the docs against what the client's and
// the server's sidecars serve after HTTP and gRPC traffic between them:
// every selector selects series (its metric exists, with the label values
// it asks for, e.g. direction="inbound"), and every label the expression
// matches on or groups by is a label of a series its selectors select.
// So a query grouping inbound requests by a label only outbound series
// have fails here, though Prometheus would answer it.
func TestShippedPromQLUsesRealMetricNames(t *testing.T) {
	t.Parallel()
	exprs, err := promql.All(need.RepoRoot())
	if err != nil {
		t.Fatal(err)
	}
	if len(exprs) < 20 {
		t.Fatalf("found only %d expressions; the extraction is broken", len(exprs))
	}

	s := startShop(t)
	for _, url := range []string{"http://server:8080/ok", "http://server:8080/fail?status=500"} {
		if r := s.client.Get(t, url); r.Status == 0 {
			t.Fatalf("GET %s: %s", url, r.Error)
		}
	}
	if r := s.client.GRPC(t, "-target", "server:8080", "-code", "14"); r.Code != "Unavailable" {
		t.Fatalf("gRPC: %s %s", r.Code, r.Message)
	}
	m := slices.Concat(settledStats(t, s.client, "outbound", 3), settledStats(t, s.server, "inbound", 3))

	for _, e := range exprs {
		t.Run(e.Source, func(t *testing.T) {
			selectors := promql.Selectors(e.Query)
			if len(selectors) == 0 {
				t.Fatalf("no envoy_ metric in %s", e.Query)
			}
			labels := map[string]bool{}
			for _, sel := range selectors {
				series := m.Select(sel.Metric, sel.Equal)
				switch {
				case len(m.Select(sel.Metric, nil)) == 0:
					t.Errorf("metric %s is not served by Envoy", sel.Metric)
				case len(series) == 0:
					t.Errorf("no series of %s has %v", sel.Metric, sel.Equal)
				}
				for _, s := range series {
					for k := range s.Labels {
						labels[k] = true
					}
				}
			}
			for _, l := range promql.Labels(e.Query) {
				if !labels[l] {
					t.Errorf("label %s is on none of the series of %v", l, selectors)
				}
			}
		})
	}
}
