package webhook

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/planeless/planeless/bench/workload"
	"github.com/planeless/planeless/inject"
	"github.com/planeless/planeless/proxy"
	"github.com/planeless/planeless/tests/pods"
)

// Bounds of one answer, whatever the pod says.
const (
	// maxAnswerBytes bounds the message and the warnings of an answer.
	maxAnswerBytes = 4 << 10
	// maxReviewAllocation bounds what one review allocates (measured in
	// bytes, not time), body included.
	maxReviewAllocation = 20 << 20
)

func hostileReviews(t testing.TB) map[string][]byte {
	t.Helper()
	names := make([]string, len(proxy.Annotations))
	for i, a := range proxy.Annotations {
		names[i] = a.Name
	}
	reviews := map[string][]byte{}
	for name, pod := range pods.Hostile(names) {
		reviews[name] = reviewOf(t, pod)
	}
	reviews["a 3 MiB pod"] = reviewOf(t, pods.New("big", pods.Namespace("shop"), pods.Padded(3<<20)))
	reviews["the most expensive pod accepted"] = reviewOf(t, pods.New("worst", pods.Namespace("shop"),
		pods.ManyPorts(1000, pods.WorstCasePorts), pods.LoggedHeaders(16, 64),
		pods.Annotation(proxy.Prefix+"tracing", "zipkin"), pods.Annotation(proxy.Prefix+"tracing-endpoint", "zipkin.tracing:9411"),
		pods.Padded(inject.MaxPodBytes-200)))
	return reviews
}

// reviewOf is the AdmissionReview the API server sends for creating pod.
func reviewOf(t testing.TB, pod *corev1.Pod) []byte {
	t.Helper()
	raw, err := json.Marshal(pod)
	if err != nil {
		t.Fatal(err)
	}
	return workload.Review("hostile", pod.Namespace, raw)
}

// Every hostile review gets a well-formed answer under 4 KiB of message
// and warnings, allocating less than 20 MB.
func TestHostileReviewsGetShortAnswersAtABoundedCost(t *testing.T) {
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	server := newAdmissionHTTP(&Handler{
		Injector: inject.New(), Log: log, Metrics: NewMetrics(prometheus.NewRegistry()), answers: newAnswers(DefaultAnswerCacheBytes),
	}, make(chan struct{}, DefaultMaxConcurrentReviews))
	send := func(body []byte) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, Path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		server.ServeHTTP(rec, req)
		return rec
	}
	for name, body := range hostileReviews(t) {
		t.Run(name, func(t *testing.T) {
			rec := send(body)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %.300s", rec.Code, rec.Body.Bytes())
			}
			var answer admissionv1.AdmissionReview
			if err := json.Unmarshal(rec.Body.Bytes(), &answer); err != nil || answer.Response == nil {
				t.Fatalf("no review in the answer: %v", err)
			}
			said := 0
			if r := answer.Response.Result; r != nil {
				said += len(r.Message)
			}
			for _, w := range answer.Response.Warnings {
				said += len(w)
			}
			if said > maxAnswerBytes {
				t.Errorf("the answer says %d bytes, more than %d", said, maxAnswerBytes)
			}
			var ms runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms)
			before := ms.TotalAlloc
			const runs = 3
			for range runs {
				send(body)
			}
			runtime.ReadMemStats(&ms)
			if got := (ms.TotalAlloc - before) / runs; got > maxReviewAllocation {
				t.Errorf("a review allocated %d MiB, more than %d MiB", got>>20, maxReviewAllocation>>20)
			}
		})
	}
}

// BenchmarkHostileReview times each hostile review through the transport
// (no TLS): what TestHostileReviewsGetShortAnswersAtABoundedCost bounds in
// bytes, in time.
func BenchmarkHostileReview(b *testing.B) {
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	server := newAdmissionHTTP(&Handler{
		Injector: inject.New(), Log: log, Metrics: NewMetrics(prometheus.NewRegistry()), answers: newAnswers(DefaultAnswerCacheBytes),
	}, make(chan struct{}, DefaultMaxConcurrentReviews))
	for name, body := range hostileReviews(b) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, Path, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				server.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d", rec.Code)
				}
			}
		})
	}
}
