package dataplane

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/planeless/planeless/tests/apps/echo"
	"github.com/planeless/planeless/tests/harness"
)

// adversaries is the shop plus the pods of testdata/adversarial.yaml, and
// two pods without a sidecar: db, a server-first protocol (MySQL greets
// first) on 3306, and plain, a REST app answering whatever headers it is
// asked to.
type adversaries struct {
	*shop
	gateway *harness.Pod
	private *harness.Pod
	mysql   *harness.Pod
	db      *harness.Pod
	plain   *harness.Pod
}

func startAdversaries(t *testing.T) *adversaries {
	t.Helper()
	pods := map[string]*corev1.Pod{}
	for _, p := range harness.Inject(t, filepath.Join("testdata", "adversarial.yaml")) {
		pods[p.Name] = p
	}
	a := &adversaries{shop: startShop(t)}
	h := a.h
	a.db = h.Plain(t, "db", harness.PodOptions{Apps: map[string][]string{
		"db": {"tcp-echo", "-listen", ":3306", "-banner", "5.7.44-mysql ready"},
	}})
	a.plain = h.Plain(t, "plain", harness.PodOptions{Apps: map[string][]string{
		"web": {"rest", "-listen", ":8080", "-name", "plain"},
	}})
	a.gateway = h.Start(t, pods["gateway"], harness.PodOptions{Apps: map[string][]string{
		"revproxy": {"revproxy", "-listen", ":8081", "-to", "http://server:8080"},
		"web":      {"rest", "-listen", ":8080", "-name", "gateway"},
	}})
	a.private = h.Start(t, pods["private"], harness.PodOptions{Apps: map[string][]string{
		"web":   {"rest", "-listen", ":8080", "-name", "private"},
		"cache": {"tcp-echo", "-listen", "127.0.0.1:6379"},
	}})
	a.mysql = h.Start(t, pods["mysql"], harness.PodOptions{Apps: map[string][]string{
		"db": {"tcp-echo", "-listen", ":3306", "-banner", "5.7.44-mysql ready"},
	}})
	return a
}

// seenBy decodes the request a REST test app reports it received, and
// fails the test unless the response came from it with status 200.
func seenBy(t *testing.T, r echo.Response) echo.Request {
	t.Helper()
	if r.Status != 200 {
		t.Fatalf("status %d %s %.200s, want 200 from a test app", r.Status, r.Error, r.Body)
	}
	var got echo.Request
	if err := json.Unmarshal([]byte(r.Body), &got); err != nil {
		t.Fatalf("the answer is not a test app's report: %v\n%.500s", err, r.Body)
	}
	return got
}

// logLine waits up to 10 s for an access log line of pod that match
// accepts, and returns it.
func logLine(t *testing.T, pod *harness.Pod, match func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, line := range strings.Split(pod.EnvoyStdout(t), "\n") {
			var l map[string]any
			if json.Unmarshal([]byte(line), &l) == nil && match(l) {
				return l
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("pod %s logged no matching line in 10 s:\n%s", pod.Name, pod.EnvoyStdout(t))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
