package node

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/planeless/planeless/tests/harness"
	"github.com/planeless/planeless/tests/need"
)

// One node for the whole package run, shared by every test (each in
// namespaces of its own): starting one costs about half a minute.
var (
	shared   *Cluster
	startErr error
)

// leases are the node indexes tests may use (make cluster has 0).
const leases = 16

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	if os.Geteuid() != 0 {
		startErr = fmt.Errorf("root")
		return m.Run()
	}
	if _, err := FindTools(); err != nil {
		startErr = err
		return m.Run()
	}
	// PLANELESS_NODE_ATTACH=1 runs the tests on the node of `make cluster`
	// (faster while writing a test; never in CI).
	if os.Getenv("PLANELESS_NODE_ATTACH") != "" && !need.CI() {
		shared, startErr = Attach("cluster", 0)
		return m.Run()
	}
	index, release, err := lease()
	if err != nil {
		startErr = err
		return m.Run()
	}
	defer release()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// Ctrl-C or a kill removes the node before the process goes; a
	// SIGKILL leaves it to the next run's sweep.
	logf := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "tests/node: "+format+"\n", args...)
	}
	name := fmt.Sprintf("t%d", index)
	var (
		mu   sync.Mutex
		node = newCluster(Options{Name: name, Index: index, Logf: logf})
	)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sigs
		cancel()
		mu.Lock()
		_ = node.Down()
		fmt.Fprintf(os.Stderr, "tests/node: %v: node removed\n", s)
		os.Exit(2)
	}()

	start := time.Now()
	c, err := Start(ctx, Options{Name: name, Index: index, Logf: logf})
	if err == nil {
		mu.Lock()
		node = c
		mu.Unlock()
		err = c.InstallPlaneless(ctx)
	}
	if err != nil {
		startErr = fmt.Errorf("starting the node: %w", err)
	} else {
		shared = c
		logf("node and planeless ready in %s", time.Since(start).Round(time.Second))
	}
	code := m.Run()
	mu.Lock()
	defer mu.Unlock()
	if c != nil {
		if code != 0 {
			logf("daemon logs:\n%s", c.Logs(15))
		}
		if err := c.Down(); err != nil {
			logf("removing the node: %v", err)
			code = 1
		}
	}
	return code
}

// lease takes a free node index under a file lock held while the tests
// run, and sweeps the nodes of earlier runs whose lock nobody holds.
func lease() (int, func(), error) {
	dir := "/run/planeless-node"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, nil, err
	}
	got := -1
	var held *os.File
	for i := 1; i <= leases; i++ {
		f, err := os.OpenFile(filepath.Join(dir, fmt.Sprintf("lease-%d", i)), os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			return 0, nil, err
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close()
			continue
		}
		// Free: whatever a node of this index left is a leftover.
		leftover := newCluster(Options{Name: fmt.Sprintf("t%d", i), Index: i})
		if _, err := os.Stat(leftover.Dir); err == nil {
			_ = leftover.Down()
		} else if _, err := os.Stat("/run/netns/" + leftover.netns()); err == nil {
			_ = leftover.Down()
		}
		if got < 0 {
			got, held = i, f
			continue
		}
		f.Close()
	}
	if got < 0 {
		return 0, nil, fmt.Errorf("all %d node leases are taken", leases)
	}
	return got, func() { held.Close() }, nil
}

// cluster returns the shared node, or stops the test the way tests/need
// does when it could not start: a failure with CI=true, else a skip.
func cluster(t *testing.T) *Cluster {
	t.Helper()
	need.Root(t)
	if startErr != nil {
		if m, ok := startErr.(Missing); ok {
			if need.CI() {
				t.Fatalf("%v (required with CI=true)", m)
			}
			t.Skipf("SKIPPED: %v", m)
		}
		t.Fatal(startErr)
	}
	return shared
}

// kubectl runs kubectl against the node, failing the test on an error.
func kubectl(t *testing.T, c *Cluster, args ...string) string {
	t.Helper()
	out, err := c.Kubectl(t.Context(), args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// apply creates the objects of manifest in namespace ns.
func apply(t *testing.T, c *Cluster, ns, manifest string) {
	t.Helper()
	if out, err := c.KubectlIn(t.Context(), manifest, "apply", "-n", ns, "-f", "-"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}

// namespace creates a namespace for the test, labelled for injection or
// not, and deletes it when the test ends (without waiting).
func namespace(t *testing.T, c *Cluster, name string, injected bool) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if injected {
		ns.Labels = map[string]string{"planeless.dev/inject": "enabled"}
	}
	// A namespace of the same name may still be terminating (an earlier
	// run on the same node).
	waitFor(t, 2*time.Minute, "creating namespace "+name, func() (bool, error) {
		_, err := c.Client.CoreV1().Namespaces().Create(t.Context(), ns, metav1.CreateOptions{})
		return err == nil, err
	})
	// Pods start only once the namespace's default ServiceAccount exists.
	waitFor(t, 30*time.Second, "the default ServiceAccount of "+name, func() (bool, error) {
		_, err := c.Client.CoreV1().ServiceAccounts(name).Get(t.Context(), "default", metav1.GetOptions{})
		return err == nil, nil
	})
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := c.Kubectl(context.Background(), "get", "pods,events", "-n", name, "-o", "wide")
			t.Logf("namespace %s at the end:\n%s", name, out)
		}
		_ = c.Client.CoreV1().Namespaces().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
}

// waitFor polls cond until it holds, failing the test after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last error
	for {
		ok, err := cond()
		if ok {
			return
		}
		if err != nil {
			last = err
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s (last error: %v)", what, timeout, last)
		}
		select {
		case <-t.Context().Done():
			t.Fatalf("%s: %v", what, t.Context().Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// pods lists the pods of ns matching the label selector.
func pods(t *testing.T, c *Cluster, ns, selector string) []corev1.Pod {
	t.Helper()
	list, err := c.Client.CoreV1().Pods(ns).List(t.Context(), metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		t.Fatal(err)
	}
	return list.Items
}

func podReady(p *corev1.Pod) bool {
	if p.DeletionTimestamp != nil {
		return false
	}
	for _, cond := range p.Status.Conditions {
		if cond.Type == corev1.PodReady {
			return cond.Status == corev1.ConditionTrue
		}
	}
	return false
}

// waitPodsReady waits until n pods match selector and all are Ready.
func waitPodsReady(t *testing.T, c *Cluster, ns, selector string, n int) []corev1.Pod {
	t.Helper()
	var got []corev1.Pod
	waitFor(t, 2*time.Minute, fmt.Sprintf("%d ready pods %s in %s", n, selector, ns), func() (bool, error) {
		list, err := c.Client.CoreV1().Pods(ns).List(t.Context(), metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return false, err
		}
		got = nil
		for i := range list.Items {
			if list.Items[i].DeletionTimestamp == nil {
				got = append(got, list.Items[i])
			}
		}
		if len(got) != n {
			return false, fmt.Errorf("%d pods", len(got))
		}
		for i := range got {
			if !podReady(&got[i]) {
				return false, fmt.Errorf("pod %s not ready: %s", got[i].Name, podSummary(&got[i]))
			}
		}
		return true, nil
	})
	return got
}

// podSummary says what each container of p is doing.
func podSummary(p *corev1.Pod) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s", p.Status.Phase)
	for _, s := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
		state := "?"
		switch {
		case s.State.Running != nil:
			state = "running"
		case s.State.Waiting != nil:
			state = "waiting " + s.State.Waiting.Reason + " " + s.State.Waiting.Message
		case s.State.Terminated != nil:
			state = fmt.Sprintf("terminated %s (%d)", s.State.Terminated.Reason, s.State.Terminated.ExitCode)
		}
		fmt.Fprintf(&b, "; %s %s ready=%v restarts=%d", s.Name, state, s.Ready, s.RestartCount)
	}
	return b.String()
}

// injected reports whether planeless injected p.
func injected(p *corev1.Pod) bool {
	_, ok := p.Annotations["planeless.dev/status"]
	return ok
}

// get GETs url from inside the node's network namespace (as the node, no
// sidecar), returning status and body.
func get(t *testing.T, c *Cluster, url string) (int, string) {
	t.Helper()
	resp, err := c.HTTPClient(10 * time.Second).Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// post POSTs to url from inside the node's network namespace.
func post(t *testing.T, c *Cluster, url string) {
	t.Helper()
	resp, err := c.HTTPClient(10*time.Second).Post(url, "text/plain", nil)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %s", url, resp.Status)
	}
}

// stats scrapes the pod's sidecar the way Prometheus does, from its
// prometheus.io annotations.
func stats(t *testing.T, c *Cluster, p *corev1.Pod) harness.Metrics {
	t.Helper()
	a := p.Annotations
	status, body := get(t, c, fmt.Sprintf("http://%s:%s%s", p.Status.PodIP, a["prometheus.io/port"], a["prometheus.io/path"]))
	if status != http.StatusOK {
		t.Fatalf("scraping %s: %d", p.Name, status)
	}
	m, err := harness.ParseMetrics(body)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// logs returns a container's log through the API server's pod-log API.
func logs(t *testing.T, c *Cluster, ns, pod, container string) string {
	t.Helper()
	b, err := c.Client.CoreV1().Pods(ns).GetLogs(pod, &corev1.PodLogOptions{Container: container}).DoRaw(t.Context())
	if err != nil {
		t.Fatalf("logs of %s/%s %s: %v", ns, pod, container, err)
	}
	return string(b)
}

// decodeLast decodes the last JSON line of s into v.
func decodeLast(t *testing.T, s string, v any) {
	t.Helper()
	last := ""
	for line := range strings.Lines(s) {
		if strings.HasPrefix(line, "{") {
			last = line
		}
	}
	if err := json.Unmarshal([]byte(last), v); err != nil {
		t.Fatalf("decoding the last JSON line of %q: %v", s, err)
	}
}
