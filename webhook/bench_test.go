package webhook

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/planeless/planeless/bench/workload"
	"github.com/planeless/planeless/inject"
	"github.com/planeless/planeless/tests/need"
)

// BenchmarkReview is one AdmissionReview through the webhook's HTTP
// handler, without TLS or a network: decoding the review, the mutate path,
// encoding the answer, the metrics and the JSON log line. Next to
// BenchmarkAdmission/patch in inject/ it shows what the server adds to the
// patch itself.
func BenchmarkReview(b *testing.B) {
	pod, err := workload.Emojivoto(need.RepoRoot())
	if err != nil {
		b.Fatal(err)
	}
	body := workload.Review("bench", workload.Namespace, pod)
	// first-pod injects every review afresh, as for the first pod of a
	// shape; cached is the webhook as it serves, every later pod of the
	// shape answered from the answer cache.
	for name, cached := range map[string]bool{"first-pod": false, "cached": true} {
		b.Run(name, func(b *testing.B) {
			h := &Handler{
				Injector: inject.New(),
				Log:      slog.New(slog.NewJSONHandler(io.Discard, nil)),
				Metrics:  NewMetrics(prometheus.NewRegistry()),
			}
			if cached {
				h.Injector = withBootstrapCache(h.Injector, prometheus.NewRegistry())
				h.answers = newAnswers(DefaultAnswerCacheBytes)
			}
			server := newAdmissionHTTP(h, make(chan struct{}, DefaultMaxConcurrentReviews))
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, Path, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				w := &answerCheck{header: http.Header{}}
				server.ServeHTTP(w, req)
				if w.status != http.StatusOK || !w.patched {
					b.Fatalf("status %d, a patch: %v", w.status, w.patched)
				}
			}
		})
	}
}

// answerCheck is the benchmark's ResponseWriter: it keeps the status and
// whether the answer carried a patch, not the answer (a recorder's copy
// would be most of what the benchmark allocates).
type answerCheck struct {
	header  http.Header
	status  int
	patched bool
}

func (w *answerCheck) Header() http.Header { return w.header }

func (w *answerCheck) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *answerCheck) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.patched = w.patched || bytes.Contains(b, []byte(`"patch":"`))
	return len(b), nil
}
