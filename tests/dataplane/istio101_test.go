package dataplane

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/planeless/planeless/tests/apps/echo"
	"github.com/planeless/planeless/tests/harness"
	"github.com/planeless/planeless/tests/need"
)

// The PromQL of docs/traffic-policy.md, each shown in a ```promql block
// there; the walk-through runs them with [5m] replaced by the length of
// the step it measures.
var walkthroughQueries = map[string]string{
	"refusals":      `sum by (app, reason, destination) (increase(envoy_planeless_egress_refused_total[5m]))`,
	"responses":     `sum by (app, destination, response_code) (increase(envoy_planeless_requests_total{direction="outbound"}[5m]))`,
	"versions":      `sum by (app, version) (increase(envoy_planeless_requests_total{direction="inbound", app="middleware"}[5m]))`,
	"error ratio":   `sum by (app, destination) (increase(envoy_planeless_requests_total{direction="outbound", response_code=~"5.."}[5m])) / sum by (app, destination) (increase(envoy_planeless_requests_total{direction="outbound"}[5m]))`,
	"retries":       `sum by (envoy_cluster_name) (increase(envoy_cluster_upstream_rq_retry[5m]))`,
	"faults":        `sum by (app) (increase(envoy_http_fault_aborts_injected[5m]))`,
	"faults delays": `sum by (app) (increase(envoy_http_fault_delays_injected[5m]))`,
}

// Every ```promql block of docs/traffic-policy.md is a query the
// walk-through runs, and every query it runs is in the doc.
func TestTrafficPolicyDocShowsTheWalkthroughQueries(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(need.RepoRoot(), "docs", "traffic-policy.md"))
	if err != nil {
		t.Fatal(err)
	}
	normal := func(q string) string { return strings.Join(strings.Fields(q), " ") }
	var inDoc []string
	for _, m := range regexp.MustCompile("(?s)```promql\n(.*?)```").FindAllStringSubmatch(string(data), -1) {
		inDoc = append(inDoc, normal(m[1]))
	}
	for name, q := range walkthroughQueries {
		if !slices.Contains(inDoc, normal(q)) {
			t.Errorf("docs/traffic-policy.md does not show the %s query:\n%s", name, q)
		}
	}
	for _, q := range inDoc {
		found := false
		for _, w := range walkthroughQueries {
			found = found || normal(w) == q
		}
		if !found {
			t.Errorf("docs/traffic-policy.md shows a query the walk-through does not run:\n%s", q)
		}
	}
}

// inDefault returns the names a Service of namespace default has.
func inDefault(names ...string) []string {
	var out []string
	for _, n := range names {
		out = append(out, n, n+".default", n+".default.svc.cluster.local")
	}
	return out
}

// TestIstio101Walkthrough is docs/traffic-policy.md, step by step, on the
// real Envoy with a real Prometheus: each step changes frontend's
// annotations (planeless inject again, Envoy restarted with the new
// bootstrap, as a rollout would), sends requests, and reads what
// Prometheus shows with the doc's queries. The numbers it logs are the
// doc's.
func TestIstio101Walkthrough(t *testing.T) {
	t.Parallel()
	manifest := filepath.Join("testdata", "istio101.yaml")
	pods := map[string]*corev1.Pod{}
	for _, p := range harness.Inject(t, manifest) {
		pods[p.Name] = p
	}
	raw, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	uninjected, err := harness.DecodePods(raw)
	if err != nil {
		t.Fatal(err)
	}
	var original *corev1.Pod
	for _, p := range uninjected {
		if p.Name == "frontend" {
			original = p
		}
	}
	h := harness.New(t)
	rest := func(name string) map[string][]string {
		return map[string][]string{"web": {"rest", "-listen", ":8080", "-name", name}}
	}
	prod := h.Start(t, pods["middleware-prod"], harness.PodOptions{Apps: rest("middleware-prod"), Aliases: inDefault("middleware-prod")})
	canary := h.Start(t, pods["middleware-canary"], harness.PodOptions{Apps: rest("middleware-canary"), Aliases: inDefault("middleware-canary")})
	h.Plain(t, "middleware", harness.PodOptions{
		Apps:    map[string][]string{"svc": {"revproxy", "-listen", ":8080", "-to", "http://middleware-prod:8080,http://middleware-canary:8080"}},
		Aliases: inDefault("middleware"),
	})
	h.Plain(t, "jsontest", harness.PodOptions{Apps: rest("time.jsontest.com"), Aliases: []string{"time.jsontest.com"}})

	annotations := map[string]string{"planeless.dev/egress-policy": "allow-list"}
	frontend := h.Start(t, reinject(t, original, annotations), harness.PodOptions{Apps: rest("frontend")})
	prom := h.StartPrometheus(t, []*harness.Pod{frontend, prod, canary})
	annotate := func(k, v string) {
		t.Helper()
		annotations[k] = v
		frontend.Reload(t, reinject(t, original, annotations))
	}

	// measure warms the series up (Prometheus cannot tell the increase of
	// a series from its first sample), waits for a scrape, then runs the
	// step's requests and waits for them to be scraped: the doc's queries
	// over exactly that time (query) show the step alone.
	var start time.Time
	measure := func(warm, run func()) {
		t.Helper()
		warm()
		time.Sleep(2500 * time.Millisecond)
		start = time.Now()
		run()
		time.Sleep(3 * time.Second)
	}
	query := func(name string) []harness.Result {
		t.Helper()
		// From a scrape before the step to the scrapes after it.
		window := fmt.Sprintf("[%ds]", int(math.Ceil(time.Since(start).Seconds()))+1)
		res, err := prom.Query(strings.ReplaceAll(walkthroughQueries[name], "[5m]", window))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		sort.Slice(res, func(i, j int) bool { return fmt.Sprint(res[i].Labels) < fmt.Sprint(res[j].Labels) })
		for _, r := range res {
			if r.Value != 0 && !math.IsNaN(r.Value) {
				t.Logf("    %s %v = %.3g", name, r.Labels, r.Value)
			}
		}
		return res
	}
	value := func(res []harness.Result, labels map[string]string) float64 {
		sum := 0.0
		for _, r := range res {
			match := true
			for k, v := range labels {
				match = match && r.Labels[k] == v
			}
			if match && !math.IsNaN(r.Value) {
				sum += r.Value
			}
		}
		return sum
	}
	// Prometheus extrapolates increase() to the window's edges: over the
	// ~13 s of a step, scraped every second, a series may come out up to
	// 2/11 high, and two pods are scraped at different moments, so a share
	// between two pods may be off by up to 4 points (5 allowed); a ratio of
	// one pod's series is not. Real dashboards use minutes, where this
	// vanishes.
	share := func(res []harness.Result, label, of string) float64 {
		return value(res, map[string]string{label: of}) / value(res, nil)
	}
	jsontest := "http://time.jsontest.com:8080/"
	middleware := "http://middleware:8080/"

	t.Run("1. egress: time.jsontest.com is refused, then allowed", func(t *testing.T) {
		var before, after echo.Load
		measure(func() { load(t, frontend, 10, 2, jsontest) }, func() { before = load(t, frontend, 100, 4, jsontest, "-rate", "12.5") })
		refusals := value(query("refusals"), map[string]string{"reason": "host_not_allowed", "destination": "time.jsontest.com:8080"})
		refused := share(query("responses"), "response_code", "403")
		t.Logf("allow-list, nothing allowed: %v; Prometheus: %.0f refusals, %.0f%% answered 403", before.Statuses, refusals, 100*refused)
		if before.Statuses[403] != 100 || refusals < 50 || refused != 1 {
			t.Errorf("statuses %v, Prometheus %v refusals and %.2f answered 403: want every request refused", before.Statuses, refusals, refused)
		}

		annotate("planeless.dev/egress-allow", "time.jsontest.com")
		measure(func() { load(t, frontend, 10, 2, jsontest) }, func() { after = load(t, frontend, 100, 4, jsontest, "-rate", "12.5") })
		refusals = value(query("refusals"), nil)
		ok := share(query("responses"), "response_code", "200")
		t.Logf("egress-allow: time.jsontest.com: %v; Prometheus: %.0f refusals, %.0f%% answered 200", after.Servers, refusals, 100*ok)
		if after.Servers["time.jsontest.com"] != 100 || refusals != 0 || ok != 1 {
			t.Errorf("servers %v, Prometheus %v refusals and %.2f answered 200: want every request answered by time.jsontest.com", after.Servers, refusals, ok)
		}
	})

	t.Run("2. all traffic to prod: the flip-flop ends", func(t *testing.T) {
		const n = 400
		var before, after echo.Load
		measure(func() { load(t, frontend, 20, 2, middleware) }, func() { before = load(t, frontend, n, 4, middleware, "-rate", "50") })
		canaryShare := share(query("versions"), "version", "canary")
		t.Logf("the middleware Service alone: %v; Prometheus: %.0f%% at the canary", before.Servers, 100*canaryShare)
		lo, hi := binomialBounds(n, 0.5)
		if got := before.Servers["middleware-canary"]; got < lo || got > hi || math.Abs(canaryShare-float64(got)/n) > 0.05 {
			t.Errorf("the canary answered %d, Prometheus %.2f: want %d to %d, as Prometheus saw", got, canaryShare, lo, hi)
		}

		annotate("planeless.dev/routes", "middleware:8080:\n  rules:\n  - to: middleware-prod\n")
		measure(func() { load(t, frontend, 20, 2, middleware) }, func() { after = load(t, frontend, n, 4, middleware, "-rate", "50") })
		prodShare := share(query("versions"), "version", "prod")
		t.Logf("routes to middleware-prod: %v; Prometheus: %.0f%% at prod", after.Servers, 100*prodShare)
		if after.Servers["middleware-prod"] != n || prodShare != 1 {
			t.Errorf("servers %v, Prometheus %.2f at prod: want every request at prod", after.Servers, prodShare)
		}
	})

	t.Run("3. instability, fixed by retries", func(t *testing.T) {
		const n = 1000
		var before, after echo.Load
		flaky := func(n int) echo.Load { return load(t, frontend, n, 8, middleware, "-H", "fail: 0.3", "-rate", "125") }
		measure(func() { flaky(50) }, func() { before = flaky(n) })
		ratio := value(query("error ratio"), map[string]string{"destination": "middleware:8080"})
		t.Logf("fail: 0.3, no retries: %v; Prometheus error ratio %.3f", before.Statuses, ratio)
		if lo, hi := binomialBounds(n, 0.3); before.Statuses[500] < lo || before.Statuses[500] > hi || math.Abs(ratio-float64(before.Statuses[500])/n) > 0.03 {
			t.Errorf("statuses %v, ratio %.3f: want %d to %d 500s, as Prometheus saw", before.Statuses, ratio, lo, hi)
		}

		annotate("planeless.dev/routes", "middleware:8080:\n  retries: {attempts: 3, perTryTimeout: 2s}\n  rules:\n  - to: middleware-prod\n")
		measure(func() { flaky(50) }, func() { after = flaky(n) })
		ratio = value(query("error ratio"), map[string]string{"destination": "middleware:8080"})
		retries := value(query("retries"), map[string]string{"envoy_cluster_name": "outbound|8080|middleware-prod|default"})
		t.Logf("retries {attempts: 3, perTryTimeout: 2s}: %v; Prometheus error ratio %.4f, %.0f retries", after.Statuses, ratio, retries)
		if after.Statuses[500] >= n*2/100 || ratio >= 0.02 || retries < 300 {
			t.Errorf("statuses %v, ratio %.4f, %v retries: want under 2%% errors, and the retries that hid them", after.Statuses, ratio, retries)
		}
	})

	t.Run("4. the canary, for those with the header", func(t *testing.T) {
		const n = 200
		annotate("planeless.dev/routes", "middleware:8080:\n  retries: {attempts: 3, perTryTimeout: 2s}\n  rules:\n"+
			"  - match: {headers: {x-dev-user: super-secret}}\n    to: middleware-canary\n  - to: middleware-prod\n")
		var with, without echo.Load
		both := func(n int) {
			with = load(t, frontend, n, 4, middleware, "-H", "x-dev-user: super-secret", "-rate", "50")
			without = load(t, frontend, n, 4, middleware, "-rate", "50")
		}
		measure(func() { both(10) }, func() { both(n) })
		canaryShare := share(query("versions"), "version", "canary")
		t.Logf("with the header: %v; without: %v; Prometheus: %.0f%% at the canary", with.Servers, without.Servers, 100*canaryShare)
		if with.Servers["middleware-canary"] != n || without.Servers["middleware-prod"] != n || math.Abs(canaryShare-0.5) > 0.05 {
			t.Errorf("with the header %v, without %v, Prometheus %.2f at the canary: want every request with it at the canary and every other at prod", with.Servers, without.Servers, canaryShare)
		}
	})

	t.Run("5. 80% to prod, 20% to the canary", func(t *testing.T) {
		const n = 2000
		annotate("planeless.dev/routes", "middleware:8080:\n  retries: {attempts: 3, perTryTimeout: 2s}\n  rules:\n  - to: {middleware-prod: 80, middleware-canary: 20}\n")
		var got echo.Load
		measure(func() { load(t, frontend, 20, 2, middleware) }, func() { got = load(t, frontend, n, 8, middleware, "-rate", "250") })
		prodShare := share(query("versions"), "version", "prod")
		t.Logf("80/20: %v; Prometheus: %.1f%% at prod", got.Servers, 100*prodShare)
		if prod := 100 * float64(got.Servers["middleware-prod"]) / n; math.Abs(prod-80) > 4 || math.Abs(100*prodShare-prod) > 5 {
			t.Errorf("servers %v, Prometheus %.1f%% at prod: want 80%% ± 4, as Prometheus saw", got.Servers, 100*prodShare)
		}
	})

	t.Run("6. faults: 10% aborted, 5% delayed", func(t *testing.T) {
		const n = 1000
		annotate("planeless.dev/routes", "middleware:8080:\n  rules:\n  - to: middleware-prod\n  fault: {abort: {status: 503, percent: 10}, delay: {fixed: 500ms, percent: 5}}\n")
		var got echo.Load
		measure(func() { load(t, frontend, 100, 8, middleware) }, func() { got = load(t, frontend, n, 8, middleware, "-slow", "450ms", "-rate", "125") })
		ratio := value(query("error ratio"), map[string]string{"destination": "middleware:8080"})
		aborts, delays := value(query("faults"), nil), value(query("faults delays"), nil)
		t.Logf("faults: %v, %d took 500ms; Prometheus error ratio %.3f, %.0f aborts and %.0f delays injected", got.Statuses, got.Slow, ratio, aborts, delays)
		lo, hi := binomialBounds(n, 0.10)
		if a := got.Statuses[503]; a < lo || a > hi || math.Abs(ratio-float64(a)/n) > 0.03 || aborts == 0 {
			t.Errorf("statuses %v, ratio %.3f, %v aborts: want %d to %d 503s, as Prometheus saw", got.Statuses, ratio, aborts, lo, hi)
		}
		if lo, hi := binomialBounds(n, 0.05); got.Slow < lo || got.Slow > hi+10 || delays == 0 {
			t.Errorf("%d slow requests, %v delays: want %d to %d", got.Slow, delays, lo, hi)
		}
	})
}

// reinject runs `planeless inject` on pod, as written in its manifest,
// with annotations, as a changed Deployment would be injected.
func reinject(t *testing.T, pod *corev1.Pod, annotations map[string]string) *corev1.Pod {
	t.Helper()
	changed := pod.DeepCopy()
	changed.Kind, changed.APIVersion = "Pod", "v1"
	changed.Annotations = annotations
	data, err := yaml.Marshal(changed)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), pod.Name+".yaml")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return harness.Inject(t, file)[0]
}
