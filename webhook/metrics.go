package webhook

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Results an admission can have, the values of the result label.
const (
	resultInjected = "injected"
	resultSkipped  = "skipped"
	resultDenied   = "denied"
	resultError    = "error"
	// resultBusy is a review that found no slot before its deadline.
	resultBusy = "busy"
)

// Metrics are the webhook's own Prometheus metrics.
type Metrics struct {
	admissions *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	inflight   prometheus.Gauge
}

// NewMetrics creates the metrics and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		admissions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "planeless_admissions_total",
			Help: "Admission requests handled, by result: injected, skipped, denied (invalid annotations or pod), error, or busy (no review slot before the deadline).",
		}, []string{"result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "planeless_admission_duration_seconds",
			Help:    "Time to decide and build the patch of one admission request, by result.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25},
		}, []string{"result"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "planeless_reviews_in_flight",
			Help: "Reviews being handled now (at most the webhook's --max-concurrent-reviews).",
		}),
	}
	reg.MustRegister(m.admissions, m.duration, m.inflight)
	for _, r := range []string{resultInjected, resultSkipped, resultDenied, resultError, resultBusy} {
		m.admissions.WithLabelValues(r)
	}
	return m
}

func (m *Metrics) observe(result string, d time.Duration) {
	if m == nil {
		return
	}
	m.admissions.WithLabelValues(result).Inc()
	m.duration.WithLabelValues(result).Observe(d.Seconds())
}

func (m *Metrics) observeBusy() {
	if m != nil {
		m.admissions.WithLabelValues(resultBusy).Inc()
	}
}

func (m *Metrics) inFlight(delta float64) {
	if m != nil {
		m.inflight.Add(delta)
	}
}
