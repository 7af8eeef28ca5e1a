package e2e_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	benchworkload "github.com/planeless/planeless/bench/workload"
	"github.com/planeless/planeless/inject"
	"github.com/planeless/planeless/proxy"
	"github.com/planeless/planeless/tests/certs"
	"github.com/planeless/planeless/tests/harness"
	"github.com/planeless/planeless/tests/pods"
)

// chartMemoryLimit is the webhook's memory limit in the chart's values.
const chartMemoryLimit = 256 << 20

// worstCases are the reviews that cost the webhook most: the most
// expensive pod it injects, pods past every bound, and a 3 MiB pod.
func worstCases(t *testing.T) map[string]*corev1.Pod {
	t.Helper()
	names := make([]string, len(proxy.Annotations))
	for i, a := range proxy.Annotations {
		names[i] = a.Name
	}
	cases := pods.Hostile(names)
	cases["the most expensive pod injected"] = pods.New("worst", pods.Namespace(appNS),
		pods.ManyPorts(1000, pods.WorstCasePorts), pods.LoggedHeaders(16, 64),
		pods.Annotation(proxy.Prefix+"tracing", "zipkin"), pods.Annotation(proxy.Prefix+"tracing-endpoint", "zipkin.tracing:9411"),
		pods.Padded(inject.MaxPodBytes-200))
	cases["a 3 MiB pod"] = pods.New("big", pods.Namespace(appNS), pods.Padded(3<<20))
	return cases
}

// 64 worst-case reviews at once against the real webhook, configured as
// the chart configures it: every one is answered with a review and a short
// message, and the process's peak memory stays under the chart's limit.
func TestConcurrentWorstCaseReviewsStayUnderTheMemoryLimit(t *testing.T) {
	bin, ca := harness.Planeless(t), certs.NewCA(t)
	w := newWebhookProcess(t, bin)
	pair := ca.Issue(t, w.certDir, "127.0.0.1")
	w.args = []string{"--tls-cert-file=" + pair.CertFile, "--tls-key-file=" + pair.KeyFile, "--cert-mode=files"}
	w.env = append(w.env, "PLANELESS_MEMORY_LIMIT="+strconv.Itoa(chartMemoryLimit))
	w.start()
	pid := w.cmd.Process.Pid

	cases := worstCases(t)
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range cases {
			if !yield(n) {
				return
			}
		}
	})
	bodies := make([][]byte, len(names))
	for i, n := range names {
		bodies[i] = reviewBody(t, fmt.Sprintf("review-%d", i), cases[n])
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.PEM)
	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}, MaxConnsPerHost: 64, MaxIdleConnsPerHost: 64,
	}}

	const concurrent = 64
	type answer struct {
		name     string
		status   int
		said     int
		uid      types.UID
		duration time.Duration
		err      error
	}
	answers := make([]answer, concurrent)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range concurrent {
		wg.Go(func() {
			n := i % len(names)
			a := answer{name: names[n]}
			began := time.Now()
			// The API server's longest deadline: on a busy machine
			// the last of the 64 wait their turn for a slot.
			resp, err := client.Post("https://"+w.addr+"/inject?timeout=30s", "application/json", bytes.NewReader(bodies[n]))
			a.duration = time.Since(began)
			if err != nil {
				a.err = err
				answers[i] = a
				return
			}
			defer resp.Body.Close()
			a.status = resp.StatusCode
			var review admissionv1.AdmissionReview
			if err := json.NewDecoder(resp.Body).Decode(&review); err != nil || review.Response == nil {
				a.err = fmt.Errorf("no review in the answer: %v", err)
			} else {
				a.uid = review.Response.UID
				if r := review.Response.Result; r != nil {
					a.said += len(r.Message)
				}
				for _, warning := range review.Response.Warnings {
					a.said += len(warning)
				}
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			answers[i] = a
		})
	}
	wg.Wait()
	total := time.Since(start)

	var slowest time.Duration
	for i, a := range answers {
		switch {
		case a.err != nil:
			t.Errorf("%s: %v", a.name, a.err)
		case a.status != http.StatusOK:
			t.Errorf("%s: status %d", a.name, a.status)
		case a.uid != types.UID(fmt.Sprintf("review-%d", i%len(names))):
			t.Errorf("%s: the answer is for review %q", a.name, a.uid)
		case a.said > 4<<10:
			t.Errorf("%s: the answer says %d bytes, more than 4 KiB", a.name, a.said)
		}
		slowest = max(slowest, a.duration)
	}
	peak := peakRSS(t, pid)
	t.Logf("%d reviews of %d kinds answered in %s (slowest %s); peak RSS %d MiB", concurrent, len(names), total.Round(time.Millisecond), slowest.Round(time.Millisecond), peak>>20)
	if peak >= chartMemoryLimit {
		t.Errorf("the webhook's peak RSS is %d MiB, not under the chart's %d MiB limit", peak>>20, chartMemoryLimit>>20)
	}
}

// Hostile pods created through the API server are refused with the
// webhook's short message naming the annotation and the bound.
func TestHostilePodsAreRefusedShortlyThroughTheAPIServer(t *testing.T) {
	s := startStack(t)
	tests := map[string]struct {
		pod  *corev1.Pod
		want []string
	}{
		"40,000 ports": {
			pod:  worstCases(t)["40,000 ports"],
			want: []string{"planeless.dev/ports", "bytes, more than the 4096 this annotation may hold", "… ("},
		},
		"a 100 KB tracing endpoint": {
			pod:  pods.New("endpoint", pods.Annotation(proxy.Prefix+"tracing-endpoint", strings.Repeat("x", 100<<10)+":9411")),
			want: []string{"planeless.dev/tracing-endpoint", "(102405 bytes, truncated)"},
		},
		"a 1 MB pod": {
			pod:  worstCases(t)["a 1 MB tracing endpoint"],
			want: []string{"the pod is 1025 KiB of JSON, more than the 384 KiB planeless injects"},
		},
		"annotations that leave the proxy's configuration no room": {
			pod:  pods.New("crowded", pods.Annotation("example.com/big", strings.Repeat("x", 250<<10))),
			want: []string{"KiB the pod's annotations leave it", "shorten the pod's own annotations"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			pod := tc.pod.DeepCopy()
			pod.Namespace = appNS
			_, err := s.client.CoreV1().Pods(appNS).Create(t.Context(), pod, metav1.CreateOptions{})
			if err == nil {
				t.Fatal("the pod was created")
			}
			if len(err.Error()) > 4<<10 {
				t.Errorf("the refusal is %d bytes", len(err.Error()))
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("the refusal does not say %q: %.500s", want, err)
				}
			}
		})
	}
}

// reviewBody is the AdmissionReview the API server sends for a pod.
func reviewBody(t *testing.T, uid string, pod *corev1.Pod) []byte {
	t.Helper()
	raw, err := json.Marshal(pod)
	if err != nil {
		t.Fatal(err)
	}
	return benchworkload.Review(uid, appNS, raw)
}

// peakRSS is the process's peak resident memory (VmHWM), in bytes.
func peakRSS(t *testing.T, pid int) int {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc/PID/status")
	return 0
}
