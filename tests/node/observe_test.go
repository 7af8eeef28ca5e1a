package node

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/planeless/planeless/tests/harness"
	"github.com/planeless/planeless/tests/need"
	"github.com/planeless/planeless/tests/promql"
)

// shop: a client (app shop) and two versions of a server (app api, v1 and
// v2), each version behind a Service of its own, and one uninjected pod
// that Prometheus must not scrape.
const shop = `
apiVersion: v1
kind: Pod
metadata: {name: shop, labels: {app: shop, version: v1}}
spec:
  containers:
    - name: shop
      image: ` + TestappImage + `
      args: [rest, -listen, ":8080", -name, shop]
      ports: [{name: http, containerPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: api-v1, labels: {app: api, version: v1, track: v1}}
spec:
  containers:
    - name: api
      image: ` + TestappImage + `
      args: [rest, -listen, ":8080", -name, api-v1]
      ports: [{name: http, containerPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: api-v2, labels: {app: api, version: v2, track: v2}}
spec:
  containers:
    - name: api
      image: ` + TestappImage + `
      args: [rest, -listen, ":8080", -name, api-v2]
      ports: [{name: http, containerPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: outsider, labels: {app: outsider, planeless.dev/inject: "false"}}
spec:
  containers:
    - name: outsider
      image: ` + TestappImage + `
      args: [rest, -listen, ":8080", -name, outsider]
---
apiVersion: v1
kind: Service
metadata: {name: api-v1}
spec: {selector: {track: v1}, ports: [{name: http, port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: api-v2}
spec: {selector: {track: v2}, ports: [{name: http, port: 8080}]}
`

// startShop runs the shop in a new labelled namespace and returns the shop
// pod's IP once all four pods are ready.
func startShop(t *testing.T, c *Cluster, ns string) string {
	t.Helper()
	namespace(t, c, ns, true)
	apply(t, c, ns, shop)
	for _, app := range []string{"shop", "outsider"} {
		waitPodsReady(t, c, ns, "app="+app, 1)
	}
	waitPodsReady(t, c, ns, "app=api", 2)
	return pods(t, c, ns, "app=shop")[0].Status.PodIP
}

// A real Prometheus finds the injected pods through the API server
// (kubernetes_sd_configs, role pod, the prometheus.io annotations the
// injector set), not the uninjected one, and its PromQL per workload,
// version, destination and code counts exactly the requests sent.
func TestPrometheusDiscoversThePodsAndCountsTheTraffic(t *testing.T) {
	t.Parallel()
	c := cluster(t)
	const ns = "observed"
	shopIP := startShop(t, c, ns)
	url, err := c.StartPrometheus(t.Context(), "prometheus-"+ns, []string{ns})
	if err != nil {
		t.Fatal(err)
	}
	prom := &harness.Prometheus{URL: url}

	waitFor(t, time.Minute, "Prometheus scraping the 3 injected pods", func() (bool, error) {
		up, err := prom.Query(`count(up{kubernetes_namespace="` + ns + `"} == 1)`)
		return err == nil && len(up) == 1 && up[0].Value == 3, err
	})
	if up, err := prom.Query(`up{pod="outsider"}`); err != nil || len(up) != 0 {
		t.Errorf("the uninjected pod is a target: %v %v", up, err)
	}

	const toV1, toV2, failed = 7, 4, 3
	for i := range toV1 {
		call(t, c, shopIP, fmt.Sprintf("http://api-v1:8080/v1/%d", i), "api-v1")
	}
	for i := range toV2 {
		call(t, c, shopIP, fmt.Sprintf("http://api-v2:8080/v2/%d", i), "api-v2")
	}
	for range failed {
		status, body := get(t, c, "http://"+shopIP+":8080/call?url=http%3A%2F%2Fapi-v2%3A8080%2Ffail%3Fstatus%3D503")
		if status != 503 {
			t.Fatalf("a failing call: %d %s", status, body)
		}
	}

	queries := []struct{ what, promql string }{
		{"shop's requests to api-v1:8080", fmt.Sprintf(`sum(envoy_planeless_requests_total{namespace=%q,app="shop",direction="outbound",destination="api-v1:8080"})`, ns)},
		{"shop's requests to api-v2:8080", fmt.Sprintf(`sum(envoy_planeless_requests_total{namespace=%q,app="shop",direction="outbound",destination="api-v2:8080"})`, ns)},
		// Inbound, a pod labels its requests by what it knows: itself and
		// the port called (the caller's claims are no labels).
		{"requests api served as v1", fmt.Sprintf(`sum(envoy_planeless_requests_total{namespace=%q,app="api",version="v1",direction="inbound",destination="api.%s:8080"})`, ns, ns)},
		{"requests api served as v2", fmt.Sprintf(`sum(envoy_planeless_requests_total{namespace=%q,app="api",version="v2",direction="inbound",destination="api.%s:8080"})`, ns, ns)},
		{"503s api v2 answered shop", fmt.Sprintf(`sum(envoy_planeless_requests_total{namespace=%q,app="api",version="v2",direction="inbound",response_code="503"})`, ns)},
	}
	want := []float64{toV1, toV2 + failed, toV1, toV2 + failed, failed}
	for i, q := range queries {
		var last []harness.Result
		waitFor(t, 30*time.Second, q.what, func() (bool, error) {
			var err error
			last, err = prom.Query(q.promql)
			return err == nil && len(last) == 1 && last[0].Value == want[i], err
		})
		t.Logf("%s: %s = %v", q.what, q.promql, last[0].Value)
	}

	// Every expression planeless ships (dashboard, alerts, docs) runs on
	// this Prometheus against the real node's series.
	exprs, err := promql.All(need.RepoRoot())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range exprs {
		if _, err := prom.Query(promql.Instantiate(e.Query)); err != nil {
			t.Errorf("%s: %v", e.Source, err)
		}
	}
}

// `planeless tap` follows the sidecars' access logs through the real
// pod-log API (API server → kubelet → containerd's log files) and pairs
// each request's outbound and inbound sides.
func TestTapStreamsAndPairsFromThePodLogAPI(t *testing.T) {
	t.Parallel()
	c := cluster(t)
	const ns = "tapped"
	shopIP := startShop(t, c, ns)

	cmd := exec.CommandContext(t.Context(), harness.Planeless(t), "tap", "ns/"+ns, "-o", "json", "--kubeconfig", c.Kubeconfig)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	var (
		mu    sync.Mutex
		lines []map[string]any
	)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var rec map[string]any
			if json.Unmarshal(sc.Bytes(), &rec) == nil {
				mu.Lock()
				lines = append(lines, rec)
				mu.Unlock()
			}
		}
	}()
	// tap shows only new requests of pods running when it starts: send
	// until one shows, then count the paired ones.
	paired := func(prefix string) int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, rec := range lines {
			path, _ := rec["path"].(string)
			if strings.HasPrefix(path, prefix) && rec["paired"] == true && rec["inbound"] != nil && rec["outbound"] != nil {
				n++
			}
		}
		return n
	}
	waitFor(t, time.Minute, "tap following the pods", func() (bool, error) {
		call(t, c, shopIP, "http://api-v1:8080/tap/warmup", "api-v1")
		return paired("/tap/warmup") > 0, fmt.Errorf("tap printed %d lines; stderr: %s", len(lines), stderr.String())
	})
	const n = 5
	for i := range n {
		call(t, c, shopIP, fmt.Sprintf("http://api-v2:8080/tap/%d", i), "api-v2")
	}
	waitFor(t, 30*time.Second, fmt.Sprintf("%d paired requests in tap's output", n), func() (bool, error) {
		return paired("/tap/")-paired("/tap/warmup") == n, nil
	})
}

// Pods planeless must not touch are created as they were: one opted out
// in a labelled namespace, one in a namespace without the label, and a
// hostNetwork pod in a labelled namespace.
func TestUninjectedAndHostNetworkPodsAreUntouched(t *testing.T) {
	t.Parallel()
	c := cluster(t)
	namespace(t, c, "untouched", true)
	namespace(t, c, "unlabelled", false)
	apply(t, c, "untouched", `
apiVersion: v1
kind: Pod
metadata: {name: opted-out, labels: {app: opted-out}, annotations: {planeless.dev/inject: "false"}}
spec:
  containers: [{name: app, image: `+TestappImage+`, args: [rest, -listen, ":8080"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: host, labels: {app: host}}
spec:
  hostNetwork: true
  containers: [{name: app, image: `+TestappImage+`, args: [rest, -listen, "127.0.0.1:18080"]}]
`)
	apply(t, c, "unlabelled", `
apiVersion: v1
kind: Pod
metadata: {name: plain, labels: {app: plain}}
spec:
  containers: [{name: app, image: `+TestappImage+`, args: [rest, -listen, ":8080"]}]
`)
	for _, p := range []struct{ ns, app string }{{"untouched", "opted-out"}, {"untouched", "host"}, {"unlabelled", "plain"}} {
		got := waitPodsReady(t, c, p.ns, "app="+p.app, 1)[0]
		if injected(&got) || len(got.Spec.InitContainers) != 0 || len(got.Spec.Containers) != 1 {
			t.Errorf("%s/%s was changed: %d init containers, %d containers, annotations %v", p.ns, p.app, len(got.Spec.InitContainers), len(got.Spec.Containers), got.Annotations)
		}
		for k := range got.Annotations {
			if strings.HasPrefix(k, "prometheus.io/") || (strings.HasPrefix(k, "planeless.dev/") && k != "planeless.dev/inject") {
				t.Errorf("%s/%s got annotation %s", p.ns, p.app, k)
			}
		}
	}
}
