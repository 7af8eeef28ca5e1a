package dataplane

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/planeless/planeless/bootstrap"
	"github.com/planeless/planeless/tests/harness"
)

// TestRequestMetricsBoundDropsSeriesNotRequests runs the client with the
// request counters' bound (the stats scope's max_counters) lowered from
// bootstrap.MaxRequestCounters to 3 in its planeless.dev/bootstrap
// annotation, and makes it send requests that make 6 label combinations to
// a server without a sidecar: all 6 are served, 3 series exist.
func TestRequestMetricsBoundDropsSeriesNotRequests(t *testing.T) {
	t.Parallel()
	h := harness.New(t)
	h.Plain(t, "plain", harness.PodOptions{Apps: map[string][]string{"web": {"rest", "-listen", ":8080", "-name", "plain"}}})
	client := h.Start(t, withLoweredBound(t, shopPod(t, "client"), "max_counters", bootstrap.MaxRequestCounters, 3),
		harness.PodOptions{Apps: map[string][]string{"web": {"rest", "-listen", ":8080", "-name", "client"}}})

	for code := 200; code < 206; code++ {
		if r := client.Get(t, fmt.Sprintf("http://plain:8080/x?status=%d", code)); r.Status != code {
			t.Errorf("asked for %d, got %d %s", code, r.Status, r.Error)
		}
	}
	if series := client.Stats(t).Select(bootstrap.RequestsMetric, nil); len(series) != 3 {
		t.Errorf("%d series, want 3: %v", len(series), series)
	}
}

// TestDestinationBoundRefusesOneMoreDestination runs the client with the
// forward proxy's destination bound (max_sub_clusters) lowered from
// bootstrap.MaxDestinations to 1 in its planeless.dev/bootstrap
// annotation: a second destination (another port of the same server: a
// destination is the address dialled) gets 503 while the first is alive,
// as docs/metrics.md says.
func TestDestinationBoundRefusesOneMoreDestination(t *testing.T) {
	t.Parallel()
	h := harness.New(t)
	h.Plain(t, "plain", harness.PodOptions{Apps: map[string][]string{
		"a": {"rest", "-listen", ":8080", "-name", "a"},
		"b": {"rest", "-listen", ":8081", "-name", "b"},
	}})
	client := h.Start(t, withLoweredBound(t, shopPod(t, "client"), "max_sub_clusters", bootstrap.MaxDestinations, 1),
		harness.PodOptions{Apps: map[string][]string{"web": {"rest", "-listen", ":8080", "-name", "client"}}})

	if got := seenBy(t, client.Get(t, "http://plain:8080/")); got.Server != "a" {
		t.Errorf("the first destination was answered by %q", got.Server)
	}
	if r := client.Get(t, "http://plain:8081/"); r.Status != 503 {
		t.Errorf("a second destination answered %d %s %.100s, want 503", r.Status, r.Error, r.Body)
	}
	if got := seenBy(t, client.Get(t, "http://plain:8080/again")); got.Server != "a" {
		t.Errorf("the first destination, again, was answered by %q", got.Server)
	}
}

// shopPod is the pod named name of testdata/pods.yaml, injected.
func shopPod(t *testing.T, name string) *corev1.Pod {
	t.Helper()
	for _, p := range harness.Inject(t, filepath.Join("testdata", "pods.yaml")) {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("testdata/pods.yaml has no pod %s", name)
	return nil
}

// withLoweredBound returns pod with every field named field of its
// bootstrap annotation, which must be there with the value shipped, set
// to lowered: what the bootstrap's bound does is seen with a few requests.
func withLoweredBound(t *testing.T, pod *corev1.Pod, field string, shipped, lowered int) *corev1.Pod {
	t.Helper()
	var b any
	if err := json.Unmarshal([]byte(pod.Annotations[harness.BootstrapAnnotation]), &b); err != nil {
		t.Fatalf("reading the bootstrap of %s: %v", pod.Name, err)
	}
	changed := 0
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if n, ok := x.(float64); ok && k == field && n == float64(shipped) {
					v[k] = lowered
					changed++
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(b)
	if changed == 0 {
		t.Fatalf("the bootstrap of %s has no %s: %d", pod.Name, field, shipped)
	}
	out, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	pod = pod.DeepCopy()
	pod.Annotations[harness.BootstrapAnnotation] = string(out)
	return pod
}
