package dataplane

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/planeless/planeless/tests/apps/echo"
	"github.com/planeless/planeless/tests/harness"
)

// policyShop runs testdata/policy.yaml's client and slowpoke with the
// upstreams its routes name, as plain pods under their Service names.
type policyShop struct {
	h        *harness.Harness
	client   *harness.Pod
	slowpoke *harness.Pod
	outsider *harness.Pod
}

// service returns the names a Service of namespace shop has in its own
// namespace, the aliases a pod standing for it gets.
func service(names ...string) []string {
	var out []string
	for _, n := range names {
		out = append(out, n, n+".shop", n+".shop.svc.cluster.local")
	}
	return out
}

func startPolicyShop(t *testing.T) *policyShop {
	t.Helper()
	pods := map[string]*corev1.Pod{}
	for _, p := range harness.Inject(t, filepath.Join("testdata", "policy.yaml")) {
		pods[p.Name] = p
	}
	h := harness.New(t)
	rest := func(name string, flags ...string) map[string][]string {
		return map[string][]string{"web": append([]string{"rest", "-listen", ":8080", "-name", name}, flags...)}
	}
	h.Plain(t, "flaky-v1", harness.PodOptions{Apps: rest("flaky", "-fail-percent", "30"), Aliases: service("flaky")})
	h.Plain(t, "hanging-v1", harness.PodOptions{Apps: rest("hanging", "-hang"), Aliases: service("hanging")})
	h.Plain(t, "healthy-v1", harness.PodOptions{Apps: rest("healthy"), Aliases: service("hanging")})
	h.Plain(t, "prod", harness.PodOptions{Apps: rest("middleware-prod"), Aliases: service("middleware-prod", "middleware", "orders", "faulty")})
	h.Plain(t, "canary", harness.PodOptions{Apps: rest("middleware-canary"), Aliases: service("middleware-canary")})
	s := &policyShop{h: h}
	s.client = h.Start(t, pods["client"], harness.PodOptions{Apps: rest("client")})
	s.slowpoke = h.Start(t, pods["slowpoke"], harness.PodOptions{Apps: rest("slowpoke")})
	s.outsider = h.Plain(t, "outsider", harness.PodOptions{})
	return s
}

// load makes pod's app send n GETs to url, c at a time.
func load(t *testing.T, pod *harness.Pod, n, c int, url string, flags ...string) echo.Load {
	t.Helper()
	argv := slices.Concat([]string{"testapp", "load", "-n", fmt.Sprint(n), "-c", fmt.Sprint(c)}, flags, []string{url})
	out, err := pod.Exec(t.Context(), pod.AppUID, argv...)
	if err != nil {
		t.Fatalf("pod %s: testapp load %s: %v", pod.Name, url, err)
	}
	var l echo.Load
	if err := json.Unmarshal([]byte(out), &l); err != nil {
		t.Fatalf("decoding %q: %v", out, err)
	}
	if l.Requests != n {
		t.Fatalf("load sent %d requests, want %d", l.Requests, n)
	}
	return l
}

// binomialBounds is the range a count of successes in n trials of
// probability p falls in but with probability below about 6e-7: mean ± 5
// standard deviations (normal approximation, good for these n and p).
func binomialBounds(n int, p float64) (lo, hi int) {
	mean, sd := float64(n)*p, math.Sqrt(float64(n)*p*(1-p))
	return int(math.Floor(mean - 5*sd)), int(math.Ceil(mean + 5*sd))
}

// TestTrafficPolicy runs the traffic policy of planeless.dev/routes and
// planeless.dev/timeout on the real Envoy: retries hide a flaky upstream
// and time out a hanging one, a header picks the canary, weights split the
// traffic, faults are injected at the rates asked, and the pod's timeout
// ends slow requests both ways. Named destinations resolve through the
// pod's /etc/hosts, as the application's names do.
func TestTrafficPolicy(t *testing.T) {
	t.Parallel()
	s := startPolicyShop(t)

	t.Run("only the Hosts the routes name leave the dialled address", func(t *testing.T) {
		// middleware-canary is a target, not a destination: its Host sent
		// to prod's address is answered by prod, as without policy.
		var got echo.Request
		r := s.client.Get(t, "http://prod:8080/", "Host: middleware-canary:8080")
		if json.Unmarshal([]byte(r.Body), &got) != nil || got.Server != "middleware-prod" {
			t.Errorf("Host middleware-canary:8080 dialled at prod: %d %q, want an answer from middleware-prod", r.Status, r.Body)
		}
		// middleware is a destination: the pod's annotation says where it
		// goes (prod, without the header), whatever address was dialled.
		r = s.client.Get(t, "http://canary:8080/", "Host: middleware:8080")
		if json.Unmarshal([]byte(r.Body), &got) != nil || got.Server != "middleware-prod" {
			t.Errorf("Host middleware:8080 dialled at the canary: %d %q, want an answer from middleware-prod", r.Status, r.Body)
		}
	})

	t.Run("retries attempts 3 hide a flaky upstream failing 30%", func(t *testing.T) {
		const n = 1000
		// Without policy: the same upstream by its pod name, which no
		// route names.
		before := load(t, s.client, n, 8, "http://flaky-v1:8080/")
		lo, hi := binomialBounds(n, 0.30)
		t.Logf("without policy: %d of %d requests failed with 500 (%.1f%%)", before.Statuses[500], n, 100*float64(before.Statuses[500])/n)
		if got := before.Statuses[500]; got < lo || got > hi || before.Statuses[200]+got != n {
			t.Fatalf("without policy: statuses %v, want %d to %d 500s and the rest 200", before.Statuses, lo, hi)
		}

		stats := s.client.Stats(t)
		flaky := cluster("outbound|8080|flaky|shop")
		after := load(t, s.client, n, 8, "http://flaky:8080/")
		now := s.client.Stats(t)
		grown := func(name string) float64 { return now.Sum(name, flaky) - stats.Sum(name, flaky) }
		retries, tries, recovered := grown("envoy_cluster_upstream_rq_retry"), grown(upstreamRqTotal), grown("envoy_cluster_upstream_rq_retry_success")
		t.Logf("with retries {attempts: 3}: %d of %d requests failed with 500 (%.1f%%); Envoy made %v tries: %v retries, %v of them answered 200",
			after.Statuses[500], n, 100*float64(after.Statuses[500])/n, tries, retries, recovered)
		// Each request fails only if its 4 tries all fail: 0.3^4 = 0.81%,
		// 8.1 of 1000 on average; 20 or more happens with probability
		// about 2e-4 (Poisson tail).
		if got := after.Statuses[500]; got >= n*2/100 || after.Statuses[200]+got != n {
			t.Errorf("with retries: statuses %v, want fewer than 2%% 500s and the rest 200", after.Statuses)
		}
		// Why, from Envoy's stats: every retry is one more try; the tries
		// that failed (the retried ones, and the last of each request that
		// still failed) are the upstream's 30%.
		if tries != n+retries {
			t.Errorf("Envoy made %v tries for %d requests and %v retries: a try is not accounted for", tries, n, retries)
		}
		failedTries := int(retries) + after.Statuses[500]
		if lo, hi := binomialBounds(int(tries), 0.30); failedTries < lo || failedTries > hi {
			t.Errorf("%d of %v tries failed, want %d to %d (30%%)", failedTries, tries, lo, hi)
		}
		if lo, hi := binomialBounds(int(retries), 0.70); recovered < float64(lo) || recovered > float64(hi) {
			t.Errorf("%v of %v retries answered 200, want %d to %d (70%%)", recovered, retries, lo, hi)
		}
	})

	t.Run("a hanging upstream is retried after perTryTimeout 2s and answered by the healthy one", func(t *testing.T) {
		const n = 16
		stats := s.client.Stats(t)
		start := time.Now()
		got := load(t, s.client, n, 4, "http://hanging:8080/", "-slow", "1900ms")
		took := time.Since(start)
		hanging := cluster("outbound|8080|hanging|shop")
		timeouts := s.client.Stats(t).Sum("envoy_cluster_upstream_rq_per_try_timeout", hanging) - stats.Sum("envoy_cluster_upstream_rq_per_try_timeout", hanging)
		t.Logf("%d requests in %s: answered by %v, %d took 2s or more, %v per-try timeouts", n, took.Round(time.Millisecond), got.Servers, got.Slow, timeouts)
		if got.Statuses[200] != n || got.Servers["healthy"] != n {
			t.Errorf("statuses %v, servers %v: want every request answered 200 by healthy", got.Statuses, got.Servers)
		}
		// Round robin over the two addresses of the name: some first tries
		// went to the hanging pod, each ended by the per-try timeout.
		if timeouts < 1 || float64(got.Slow) != timeouts {
			t.Errorf("%v per-try timeouts and %d requests of 2s or more: want the same number, at least 1", timeouts, got.Slow)
		}
	})

	t.Run("every request with the header reaches the canary, none without", func(t *testing.T) {
		with := load(t, s.client, 200, 8, "http://middleware:8080/", "-H", "x-dev-user: super-secret")
		without := load(t, s.client, 200, 8, "http://middleware:8080/")
		wrong := load(t, s.client, 200, 8, "http://middleware:8080/", "-H", "x-dev-user: guess")
		t.Logf("with the header: %v; without: %v; with another value: %v", with.Servers, without.Servers, wrong.Servers)
		if with.Servers["middleware-canary"] != 200 {
			t.Errorf("with the header, servers %v: want all 200 at middleware-canary", with.Servers)
		}
		if without.Servers["middleware-prod"] != 200 || wrong.Servers["middleware-prod"] != 200 {
			t.Errorf("without the header, servers %v and %v: want all at middleware-prod", without.Servers, wrong.Servers)
		}
	})

	t.Run("weights 80/20 split 2000 requests within 4 points", func(t *testing.T) {
		const n = 2000
		got := load(t, s.client, n, 8, "http://orders:8080/")
		prod := 100 * float64(got.Servers["middleware-prod"]) / n
		t.Logf("%d requests: %v, %.1f%% at prod", n, got.Servers, prod)
		// One standard deviation is 0.9 points: missing by 4 happens with
		// probability below 1e-5.
		if got.Servers["middleware-prod"]+got.Servers["middleware-canary"] != n || math.Abs(prod-80) > 4 {
			t.Errorf("servers %v: want 80%% ± 4 at middleware-prod, the rest at middleware-canary", got.Servers)
		}
	})

	t.Run("faults abort 10% and delay 20% of the requests", func(t *testing.T) {
		const n = 1000
		aborts := map[string]string{"envoy_http_conn_manager_prefix": "outbound_http"}
		before := s.client.Stats(t)
		got := load(t, s.client, n, 16, "http://faulty:8080/", "-slow", "900ms")
		after := s.client.Stats(t)
		injected := after.Sum("envoy_http_fault_aborts_injected", aborts) - before.Sum("envoy_http_fault_aborts_injected", aborts)
		delayed := after.Sum("envoy_http_fault_delays_injected", aborts) - before.Sum("envoy_http_fault_delays_injected", aborts)
		t.Logf("%d requests: statuses %v, %d took 1s or more; Envoy injected %v aborts and %v delays", n, got.Statuses, got.Slow, injected, delayed)
		lo, hi := binomialBounds(n, 0.10)
		if a := got.Statuses[503]; a < lo || a > hi || float64(a) != injected || got.Statuses[200]+a != n {
			t.Errorf("statuses %v, %v aborts injected: want %d to %d 503s, each an injected abort, the rest 200", got.Statuses, injected, lo, hi)
		}
		// Every delayed request takes 1s (Envoy's timer fires up to a few
		// milliseconds early, hence 900ms); others take milliseconds, but
		// a loaded machine may hold a few back.
		lo, hi = binomialBounds(n, 0.20)
		if delayed < float64(lo) || delayed > float64(hi) || float64(got.Slow) < delayed || float64(got.Slow) > delayed+10 {
			t.Errorf("%d slow requests, %v delays injected: want %d to %d delays, each a slow request", got.Slow, delayed, lo, hi)
		}
	})

	t.Run("planeless.dev/timeout ends slow requests inbound and outbound", func(t *testing.T) {
		start := time.Now()
		in := s.outsider.Get(t, "http://slowpoke:8080/?delay=3s")
		inTook := time.Since(start)
		start = time.Now()
		out := s.slowpoke.Get(t, "http://prod:8080/?delay=3s")
		outTook := time.Since(start)
		quick := s.slowpoke.Get(t, "http://prod:8080/?delay=200ms")
		t.Logf("inbound: %d after %s; outbound: %d after %s; a quicker request: %d", in.Status, inTook.Round(time.Millisecond), out.Status, outTook.Round(time.Millisecond), quick.Status)
		for name, r := range map[string]echo.Response{"inbound": in, "outbound": out} {
			if r.Status != 504 || !strings.Contains(r.Body, "upstream request timeout") {
				t.Errorf("%s: %d %q, want 504 upstream request timeout", name, r.Status, r.Body)
			}
		}
		if inTook > 2500*time.Millisecond || outTook > 2500*time.Millisecond {
			t.Errorf("the requests took %s and %s: the 1s timeout did not end them", inTook, outTook)
		}
		if quick.Status != 200 {
			t.Errorf("a request within the timeout: %d %s", quick.Status, quick.Error)
		}
	})
}
