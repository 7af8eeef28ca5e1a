package inject

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/planeless/planeless/proxy"
	"github.com/planeless/planeless/tests/pods"
)

// maxReviewBytes is what injecting one pod may allocate, whatever the pod
// says (it was 20 MiB while the patch was a diff of the whole pod).
const maxReviewBytes = 2 << 20

// worstCase is the most expensive pod the injector accepts: as large as
// MaxPodBytes allows, with as many intercepted ports, logged headers and
// tracing as fit the bootstrap's budget.
func worstCase(t testing.TB) []byte {
	t.Helper()
	pod := pods.New("worst", pods.Namespace("n"), pods.ManyPorts(1000, pods.WorstCasePorts), pods.LoggedHeaders(16, 64),
		pods.Annotation(proxy.Prefix+"tracing", "zipkin"), pods.Annotation(proxy.Prefix+"tracing-endpoint", "zipkin.tracing:9411"),
		pods.Padded(MaxPodBytes-200))
	raw, err := json.Marshal(pod)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) > MaxPodBytes || len(raw) < MaxPodBytes-1024 {
		t.Fatalf("the worst case is %d bytes, not just under %d", len(raw), MaxPodBytes)
	}
	return raw
}

// The worst pod the injector accepts, in both sidecar modes, costs less
// than maxReviewBytes: measured as bytes allocated, not time.
func TestWorstCaseReviewIsBounded(t *testing.T) {
	raw := worstCase(t)
	for _, native := range []bool{true, false} {
		t.Run(fmt.Sprintf("native sidecar %v", native), func(t *testing.T) {
			i := New()
			i.Defaults.NativeSidecar = native
			ops, res, err := i.Patch(t.Context(), raw, "n")
			if err != nil || res.Skipped != "" || len(ops) == 0 {
				t.Fatalf("the worst case is not injected: %v %s", err, res.Skipped)
			}
			if got := allocated(func() { _, _, _ = i.Patch(t.Context(), raw, "n") }); got > maxReviewBytes {
				t.Errorf("a review allocated %d MiB, more than %d MiB", got>>20, maxReviewBytes>>20)
			}
		})
	}
}

// Pods past the bounds are refused before the expensive steps, cheaply,
// with a PodError saying which bound.
func TestPodsPastTheBoundsAreRefusedCheaply(t *testing.T) {
	big := pods.New("big", pods.Namespace("n"), pods.Padded(3<<20))
	crowded := pods.New("crowded", pods.Namespace("n"), pods.Annotation("example.com/big", strings.Repeat("x", 250<<10)))
	tests := map[string]struct {
		pod     *corev1.Pod
		wantErr string
		budget  uint64
	}{
		"a 3 MiB pod": {pod: big, wantErr: "KiB of JSON, more than the 384 KiB planeless injects", budget: 64 << 10},
		"annotations leaving the bootstrap no room": {pod: crowded, wantErr: "KiB the pod's annotations leave it",
			budget: 2 << 20},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			raw, err := json.Marshal(tc.pod)
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = New().Patch(t.Context(), raw, "n")
			var podErr *proxy.PodError
			if !errors.As(err, &podErr) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %v, want a PodError containing %q", err, tc.wantErr)
			}
			if got := allocated(func() { _, _, _ = New().Patch(t.Context(), raw, "n") }); got > tc.budget {
				t.Errorf("refusing allocated %d KiB, more than %d KiB", got>>10, tc.budget>>10)
			}
		})
	}
}

// Work stops once the API server stopped waiting.
func TestAReviewPastItsDeadlineStops(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	raw, _ := json.Marshal(pods.New("p", pods.Namespace("n")))
	_, _, err := New().Patch(ctx, raw, "n")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
}

// allocated returns the bytes f allocates, averaged over a few runs.
func allocated(f func()) uint64 {
	const runs = 3
	f()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		f()
	}
	runtime.ReadMemStats(&after)
	return (after.TotalAlloc - before.TotalAlloc) / runs
}

// BenchmarkWorstCase is the most expensive review the injector accepts.
func BenchmarkWorstCase(b *testing.B) {
	raw := worstCase(b)
	i := New()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := i.Patch(b.Context(), raw, "n"); err != nil {
			b.Fatal(err)
		}
	}
}
