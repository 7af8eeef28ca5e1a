package node

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/planeless/planeless/bench/podstart"
	"github.com/planeless/planeless/inject"
)

// startupPod is the pod whose start is measured: the test app, already
// imported on the node (nothing pulled), without probes of its own, so
// that Ready means its containers started. Injected, the pod also waits
// for the sidecar's startup probe. Uninjected, it carries the opt-out
// label, which keeps it from the webhook: the one difference in its spec.
func startupPod(name string, injected bool) *corev1.Pod {
	labels := map[string]string{"app": "startup"}
	if !injected {
		labels["planeless.dev/inject"] = "false"
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "app", Image: TestappImage, Args: []string{"rest", "-listen", ":8080"},
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
		}}},
	}
}

// measureStart creates the pod in the labelled namespace ns and times, on
// this process's clock, the Create call and the first watch events with
// the pod scheduled, initialized and Ready. It returns the pod as last
// seen (Ready), then deletes it and waits until it is gone, so the next
// pod starts on a quiet node.
func measureStart(t *testing.T, c *Cluster, ns, name string, injected bool) (podstart.Sample, *corev1.Pod) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	pods := c.Client.CoreV1().Pods(ns)
	// The watch starts before the pod exists: no event can be missed.
	w, err := pods.Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + name})
	if err != nil {
		t.Fatalf("watching pod %s: %v", name, err)
	}
	defer w.Stop()
	s := podstart.Sample{Pod: name, Injected: injected}
	start := time.Now()
	if _, err := pods.Create(ctx, startupPod(name, injected), metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating pod %s: %v", name, err)
	}
	s.CreateMS = podstart.MS(time.Since(start))
	defer deletePod(t, c, ns, name)

	seen := map[corev1.PodConditionType]*float64{
		corev1.PodScheduled:   &s.ScheduledMS,
		corev1.PodInitialized: &s.InitializedMS,
		corev1.PodReady:       &s.ReadyMS,
	}
	var last *corev1.Pod
	for s.ReadyMS == 0 {
		select {
		case <-ctx.Done():
			summary := "never seen"
			if last != nil {
				summary = podSummary(last)
			}
			t.Fatalf("pod %s not Ready: %v (%s)", name, ctx.Err(), summary)
		case ev, ok := <-w.ResultChan():
			if !ok {
				t.Fatalf("the watch of pod %s ended before it was Ready", name)
			}
			if ev.Type == watch.Error {
				t.Fatalf("watching pod %s: %v", name, apierrors.FromObject(ev.Object))
			}
			p, ok := ev.Object.(*corev1.Pod)
			if !ok {
				continue
			}
			now := podstart.MS(time.Since(start))
			last = p
			for _, cond := range p.Status.Conditions {
				if at, ok := seen[cond.Type]; ok && *at == 0 && cond.Status == corev1.ConditionTrue {
					*at = now
				}
			}
		}
	}
	s.KubeletStartedS = kubeletStarts(last)
	return s, last
}

// kubeletStarts is when the kubelet says each container of p started, in
// seconds after p was created.
func kubeletStarts(p *corev1.Pod) map[string]float64 {
	starts := map[string]float64{}
	for _, cs := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
		var at metav1.Time
		switch {
		case cs.State.Running != nil:
			at = cs.State.Running.StartedAt
		case cs.State.Terminated != nil:
			at = cs.State.Terminated.StartedAt
		default:
			continue
		}
		starts[cs.Name] = at.Sub(p.CreationTimestamp.Time).Seconds()
	}
	return starts
}

// deletePod deletes the pod at once and waits until the API server no
// longer has it.
func deletePod(t *testing.T, c *Cluster, ns, name string) {
	t.Helper()
	zero := int64(0)
	pods := c.Client.CoreV1().Pods(ns)
	if err := pods.Delete(t.Context(), name, metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil && !apierrors.IsNotFound(err) {
		t.Fatalf("deleting pod %s: %v", name, err)
	}
	waitFor(t, time.Minute, "pod "+name+" gone", func() (bool, error) {
		_, err := pods.Get(t.Context(), name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	})
}

// TestBenchStartup is `make bench`'s pod start-up part; it only runs when
// BENCH_STARTUP names the JSON file to write (BENCH_QUICK=1 for fewer
// pods). One warm-up pod of each kind, then the timed pods, one at a time,
// alternating injected and uninjected so that a change in the machine's
// load touches both kinds alike.
func TestBenchStartup(t *testing.T) {
	out := os.Getenv("BENCH_STARTUP")
	if out == "" {
		t.Skip("set BENCH_STARTUP=<file> to run the pod start-up benchmark (make bench does)")
	}
	c := cluster(t)
	pods, warmup := 10, 1
	if os.Getenv("BENCH_QUICK") == "1" {
		pods = 3
	}
	const ns = "startup-bench"
	namespace(t, c, ns, true)
	var samples []podstart.Sample
	for i := range warmup + pods {
		for _, inj := range []bool{false, true} {
			name := fmt.Sprintf("%s-%d", map[bool]string{true: "injected", false: "uninjected"}[inj], i)
			s, _ := measureStart(t, c, ns, name, inj)
			t.Logf("%s: create %.0f ms, scheduled %.0f ms, initialized %.0f ms, Ready %.0f ms", name, s.CreateMS, s.ScheduledMS, s.InitializedMS, s.ReadyMS)
			if i >= warmup {
				samples = append(samples, s)
			}
		}
	}
	r := podstart.Summarize(samples, warmup)
	t.Logf("create to Ready, median / p90 / max: injected %.0f / %.0f / %.0f ms, uninjected %.0f / %.0f / %.0f ms; added %.0f ms",
		r.Injected.MedianMS, r.Injected.P90MS, r.Injected.MaxMS, r.Uninjected.MedianMS, r.Uninjected.P90MS, r.Uninjected.MaxMS, r.AddedMS)
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// The start-up benchmark compares what it says only if its injected pod
// really carries the sidecar and its uninjected pod, same spec otherwise,
// does not; and its samples come from the watch, step by step. One pod of
// each kind, measured as the benchmark does; no time is asserted.
func TestStartupBenchComparesAnInjectedPodWithAnUninjectedOne(t *testing.T) {
	t.Parallel()
	c := cluster(t)
	const ns = "startup-check"
	namespace(t, c, ns, true)
	for _, inj := range []bool{true, false} {
		name := map[bool]string{true: "injected", false: "uninjected"}[inj]
		s, p := measureStart(t, c, ns, name, inj)
		if !podReady(p) {
			t.Errorf("pod %s: the measure returned before Ready: %s", name, podSummary(p))
		}
		if s.Injected != inj || injected(p) != inj {
			t.Errorf("pod %s: sample says injected %v, the pod's status annotation %v, want %v", name, s.Injected, injected(p), inj)
		}
		var proxy *corev1.Container
		for i := range p.Spec.InitContainers {
			if p.Spec.InitContainers[i].Name == inject.ProxyName {
				proxy = &p.Spec.InitContainers[i]
			}
		}
		switch {
		case inj && (proxy == nil || proxy.RestartPolicy == nil || *proxy.RestartPolicy != corev1.ContainerRestartPolicyAlways):
			t.Errorf("pod %s: no native %s sidecar: %+v", name, inject.ProxyName, p.Spec.InitContainers)
		case !inj && len(p.Spec.InitContainers) != 0:
			t.Errorf("pod %s: init containers %+v, want none", name, p.Spec.InitContainers)
		}
		if len(p.Spec.Containers) != 1 || p.Spec.Containers[0].Name != "app" || p.Spec.Containers[0].Image != TestappImage {
			t.Errorf("pod %s: containers %+v, want the app alone", name, p.Spec.Containers)
		}
		for _, ctr := range append(append([]corev1.Container{}, p.Spec.InitContainers...), p.Spec.Containers...) {
			if _, ok := s.KubeletStartedS[ctr.Name]; !ok {
				t.Errorf("pod %s: no kubelet start time for container %s: %v", name, ctr.Name, s.KubeletStartedS)
			}
		}
		if s.CreateMS <= 0 || s.ScheduledMS < s.CreateMS || s.InitializedMS < s.ScheduledMS || s.ReadyMS < s.InitializedMS {
			t.Errorf("pod %s: the steps are not in order: %+v", name, s)
		}
	}
}
