package tap

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/planeless/planeless/inject"
	"github.com/planeless/planeless/tap"
	"github.com/planeless/planeless/tests/harness"
	"github.com/planeless/planeless/tests/kube"
	"github.com/planeless/planeless/tests/need"

	_ "github.com/planeless/planeless/tests/golden"
)

const namespace = "shop"

// cluster is the API server, the fake kubelet behind it and the harness
// running the pods whose sidecar logs the kubelet serves.
type cluster struct {
	kube    *kube.Cluster
	kubelet *kubelet
	h       *harness.Harness
	pods    map[string]*corev1.Pod // injected pods of testdata/pods.yaml
}

func startCluster(t *testing.T) *cluster {
	t.Helper()
	need.Root(t)
	c := &cluster{kube: kube.Start(t), kubelet: startKubelet(t), pods: map[string]*corev1.Pod{}}
	registerNode(t, c.kube.Client, c.kubelet)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}
	if _, err := c.kube.Client.CoreV1().Namespaces().Create(t.Context(), ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, p := range harness.Inject(t, filepath.Join("testdata", "pods.yaml")) {
		c.pods[p.Name] = p
	}
	c.h = harness.New(t)
	return c
}

// run starts pod on the harness, has the kubelet serve its sidecar's log
// (Envoy's stdout and stderr) and registers it in the API server.
func (c *cluster) run(t *testing.T, pod *corev1.Pod, opts harness.PodOptions) *harness.Pod {
	t.Helper()
	p := c.h.Start(t, pod, opts)
	if pod.Namespace == namespace {
		dir := filepath.Join(c.h.Dir(), p.Name)
		c.kubelet.serve(namespace, p.Name, inject.ProxyName,
			filepath.Join(dir, "envoy.stdout.log"), filepath.Join(dir, "envoy.stderr.log"))
		if err := registerPod(t.Context(), c.kube.Client, pod, p.IP.String()); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func serverApps(name string) harness.PodOptions {
	return harness.PodOptions{
		Apps: map[string][]string{
			"web":  {"rest", "-grpc", "-listen", ":8080", "-name", name},
			"grpc": {"grpc", "-listen", ":9090", "-name", name},
		},
		Aliases: []string{name + ".shop"},
	}
}

// running is one tap.Run writing JSON into a buffer.
type running struct {
	name   string
	out    *syncBuffer
	cancel context.CancelFunc
	done   chan error

	mu     sync.Mutex
	events []tap.Event
}

// startTap runs a tap; pairWait is how long entries wait for their other
// side (long, for a slow machine: stop prints the entries still waiting).
func startTap(t *testing.T, c kubernetes.Interface, name string, target tap.Target, filter tap.Filter, pairWait time.Duration) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{name: name, out: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	s := &tap.Streamer{
		Client: c,
		Target: target,
		Retry:  100 * time.Millisecond,
		Events: func(e tap.Event) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.events = append(r.events, e)
		},
	}
	opts := tap.Options{Filter: filter, Writer: tap.NewJSONWriter(r.out), PairWait: pairWait, MaxWaiting: 1000}
	go func() { r.done <- tap.Run(ctx, s, opts) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop ends the tap; it prints the entries still waiting for a pair.
func (r *running) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("tap %s: %v", r.name, err)
		}
		r.done <- nil // later stops return at once
	case <-time.After(30 * time.Second):
		t.Fatalf("tap %s did not stop", r.name)
	}
}

func (r *running) records(t *testing.T) []tap.Record {
	t.Helper()
	var recs []tap.Record
	for line := range strings.Lines(r.out.String()) {
		var rec tap.Record
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("tap %s printed %q: %v", r.name, line, err)
		}
		recs = append(recs, rec)
	}
	return recs
}

func (r *running) hasEvent(kind tap.EventKind, pod string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.ContainsFunc(r.events, func(e tap.Event) bool { return e.Kind == kind && e.Pod.Name == pod })
}

// waitFor waits until the tap printed a record that match accepts.
func (r *running) waitFor(t *testing.T, what string, match func(tap.Record) bool) tap.Record {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		for _, rec := range r.records(t) {
			if match(rec) {
				return rec
			}
		}
		if time.Now().After(deadline) {
			r.mu.Lock()
			defer r.mu.Unlock()
			t.Fatalf("tap %s printed no %s; it printed:\n%s\nevents: %v", r.name, what, r.out.String(), r.events)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitUntil polls cond.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// summary names a record: "client→server POST /tap/orders 200", with ?
// for a side the tap did not see.
func summary(rec tap.Record) string {
	from, to := "?", "?"
	if rec.Outbound != nil {
		from = rec.Source.Pod
	}
	if rec.Inbound != nil {
		to = rec.Destination.Pod
	}
	return fmt.Sprintf("%s→%s %s %s %d", from, to, rec.Method, rec.Path, rec.ResponseCode)
}

func summaries(recs []tap.Record) []string {
	out := make([]string, 0, len(recs))
	for _, rec := range recs {
		out = append(out, summary(rec))
	}
	slices.Sort(out)
	return out
}

func sorted(s ...string) []string { slices.Sort(s); return s }

// curl makes the client's app send a request with method to url.
func curl(t *testing.T, p *harness.Pod, method, url string) {
	t.Helper()
	if out, err := p.Exec(t.Context(), p.AppUID, "curl", "-sS", "-o", "/dev/null", "-X", method, url); err != nil {
		t.Fatalf("%s %s from %s: %v %s", method, url, p.Name, err, out)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func mustPath(t *testing.T, s string) *tap.PathMatch {
	t.Helper()
	m, err := tap.ParsePath(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func mustStatus(t *testing.T, s string) []tap.StatusRange {
	t.Helper()
	r, err := tap.ParseStatus(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// createDeployment creates the deployment whose selector picks the server
// pods (app=server).
func createDeployment(t *testing.T, c kubernetes.Interface) {
	t.Helper()
	labels := map[string]string{"app": "server"}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "server", Namespace: namespace},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "example.com/testapp:latest"}}},
			},
		},
	}
	if _, err := c.AppsV1().Deployments(namespace).Create(t.Context(), d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func clientApps() harness.PodOptions {
	return harness.PodOptions{Apps: map[string][]string{"web": {"rest", "-listen", ":8080", "-name", "client"}}}
}

func harnessNoApps() harness.PodOptions { return harness.PodOptions{} }

// portOf is the port of an authority host:port.
func portOf(authority string) int {
	_, port, _ := strings.Cut(authority, ":")
	n, _ := strconv.Atoi(port)
	return n
}
