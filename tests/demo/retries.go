package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/planeless/planeless/tests/apps/echo"
	"github.com/planeless/planeless/tests/harness"
)

// retryRoutes is what step 9 adds to web: retry the flaky canary's
// requests (docs/traffic-policy.md).
const retryRoutes = "orders-canary:8080:\n  retries: {attempts: 3}\n"

// canaryErrors is docs/traffic-policy.md's error ratio query, for web's
// requests to the canary, over the last few seconds.
const canaryErrors = `sum by (app, destination) (increase(envoy_planeless_requests_total{direction="outbound", app="web", destination="orders-canary:8080", response_code=~"5.."}[%ds])) / sum by (app, destination) (increase(envoy_planeless_requests_total{direction="outbound", app="web", destination="orders-canary:8080"}[%ds]))`

// showRetries measures web's requests to the flaky canary (orders-v2 fails
// 30%), adds planeless.dev/routes with retries to web (planeless inject
// again; Envoy restarts with the new bootstrap, as a rollout would), and
// measures again: the error ratio the app sees and Prometheus shows,
// before and after.
func showRetries(r *runner, prom *harness.Prometheus, web *harness.Pod, manifest string) {
	const n = 300
	canary := "http://orders-canary:8080/orders/42"
	measure := func() (echo.Load, float64) {
		load(r, web, 20, canary) // the series exist before the window opens
		time.Sleep(2500 * time.Millisecond)
		start := time.Now()
		got := load(r, web, n, canary, "-rate", "50")
		time.Sleep(3 * time.Second)
		w := int(math.Ceil(time.Since(start).Seconds())) + 1
		res, err := prom.Query(fmt.Sprintf(canaryErrors, w, w))
		if err != nil {
			r.Fatal(err)
		}
		ratio := 0.0
		if len(res) == 1 && !math.IsNaN(res[0].Value) {
			ratio = res[0].Value
		}
		return got, ratio
	}
	report := func(when string, got echo.Load, ratio float64) {
		failed := n - got.Statuses[200]
		r.printf("   %-7s %d requests from web to orders-canary:8080: %d failed (%.1f%%); Prometheus error ratio %.1f%%\n",
			when, n, failed, 100*float64(failed)/n, 100*ratio)
	}

	before, ratio := measure()
	report("before", before, ratio)

	r.printf("   adding to web's pod template, then `planeless inject` and a restart of web's Envoy:\n")
	r.printf("     planeless.dev/routes: |\n%s", indent("    "+strings.ReplaceAll(strings.TrimSpace(retryRoutes), "\n", "\n    ")))
	web.Reload(r, reinjectWeb(r, manifest))

	after, ratio := measure()
	report("after", after, ratio)
	retries := web.Stats(r).Sum("envoy_cluster_upstream_rq_retry", map[string]string{"envoy_cluster_name": "outbound|8080|orders-canary|demo"})
	r.printf("   web's Envoy retried %.0f times (envoy_cluster_upstream_rq_retry{envoy_cluster_name=\"outbound|8080|orders-canary|demo\"})\n", retries)
}

// load makes pod's app send n GETs to url (testapp load).
func load(r *runner, pod *harness.Pod, n int, url string, flags ...string) echo.Load {
	argv := append([]string{"testapp", "load", "-n", fmt.Sprint(n), "-c", "4"}, flags...)
	out, err := pod.Exec(r.ctx, pod.AppUID, append(argv, url)...)
	if err != nil {
		r.Fatalf("testapp load %s: %v", url, err)
	}
	var l echo.Load
	if err := json.Unmarshal([]byte(out), &l); err != nil {
		r.Fatalf("decoding %q: %v", out, err)
	}
	return l
}

// reinjectWeb injects web's Deployment again with retryRoutes.
func reinjectWeb(r *runner, manifest string) *corev1.Pod {
	data, err := os.ReadFile(manifest)
	if err != nil {
		r.Fatal(err)
	}
	for _, doc := range strings.Split(string(data), "\n---") {
		var d appsv1.Deployment
		if yaml.Unmarshal([]byte(doc), &d) != nil || d.Kind != "Deployment" || d.Name != "web" {
			continue
		}
		d.Spec.Template.Annotations["planeless.dev/routes"] = retryRoutes
		out, err := yaml.Marshal(d)
		if err != nil {
			r.Fatal(err)
		}
		file := filepath.Join(filepath.Dir(manifest), "web-with-retries.yaml")
		if err := os.WriteFile(file, out, 0o644); err != nil {
			r.Fatal(err)
		}
		return harness.Inject(r, file)[0]
	}
	r.Fatalf("%s has no web Deployment", manifest)
	return nil
}
