package podstart

import (
	"slices"
	"time"
)

// Sample is one pod's start, timed on the client's clock: from the moment
// the Create call was sent to the first watch event showing each step.
// The pod's own timestamps (creationTimestamp, a condition's
// lastTransitionTime) have 1 s resolution, too coarse for this.
type Sample struct {
	Pod      string `json:"pod"`
	Injected bool   `json:"injected"`
	// CreateMS is the Create call itself (admission, the webhook's
	// included).
	CreateMS float64 `json:"create_ms"`
	// ScheduledMS, InitializedMS and ReadyMS are from the Create call's
	// start to the first event with PodScheduled, Initialized and Ready
	// true.
	ScheduledMS   float64 `json:"scheduled_ms"`
	InitializedMS float64 `json:"initialized_ms"`
	ReadyMS       float64 `json:"ready_ms"`
	// KubeletStartedS is when the kubelet says each container started,
	// in seconds after the pod's creationTimestamp: both have 1 s
	// resolution, enough to see where whole seconds go.
	KubeletStartedS map[string]float64 `json:"kubelet_started_s,omitempty"`
}

// Summary is one kind of pod (injected or not) over its samples.
type Summary struct {
	Pods                int     `json:"pods"`
	MedianMS            float64 `json:"ready_median_ms"`
	P90MS               float64 `json:"ready_p90_ms"`
	MaxMS               float64 `json:"ready_max_ms"`
	CreateMedianMS      float64 `json:"create_median_ms"`
	ScheduledMedianMS   float64 `json:"scheduled_median_ms"`
	InitializedMedianMS float64 `json:"initialized_median_ms"`
	// KubeletStartedMedianS is the median of each container's
	// KubeletStartedS.
	KubeletStartedMedianS map[string]float64 `json:"kubelet_started_median_s,omitempty"`
}

// Result is what TestBenchStartup writes to $BENCH_STARTUP.
type Result struct {
	// Pods is the number of timed pods of each kind; Warmup the untimed
	// pods of each kind started first.
	Pods       int      `json:"pods_per_kind"`
	Warmup     int      `json:"warmup_per_kind"`
	Injected   Summary  `json:"injected"`
	Uninjected Summary  `json:"uninjected"`
	Samples    []Sample `json:"samples"`
	// AddedMS is the injected median minus the uninjected one, from
	// create to Ready.
	AddedMS float64 `json:"added_median_ms"`
}

// Summarize builds the Result of the samples.
func Summarize(samples []Sample, warmup int) Result {
	r := Result{Warmup: warmup, Samples: samples}
	var in, out []Sample
	for _, s := range samples {
		if s.Injected {
			in = append(in, s)
		} else {
			out = append(out, s)
		}
	}
	r.Injected, r.Uninjected = summary(in), summary(out)
	r.Pods = min(len(in), len(out))
	r.AddedMS = r.Injected.MedianMS - r.Uninjected.MedianMS
	return r
}

func summary(ss []Sample) Summary {
	field := func(f func(Sample) float64) []float64 {
		v := make([]float64, len(ss))
		for i, s := range ss {
			v[i] = f(s)
		}
		slices.Sort(v)
		return v
	}
	ready := field(func(s Sample) float64 { return s.ReadyMS })
	started := map[string][]float64{}
	for _, s := range ss {
		for name, at := range s.KubeletStartedS {
			started[name] = append(started[name], at)
		}
	}
	var startedMedian map[string]float64
	if len(started) > 0 {
		startedMedian = map[string]float64{}
	}
	for name, v := range started {
		slices.Sort(v)
		startedMedian[name] = quantile(v, 0.5)
	}
	return Summary{
		Pods:                  len(ss),
		MedianMS:              quantile(ready, 0.5),
		P90MS:                 quantile(ready, 0.9),
		MaxMS:                 quantile(ready, 1),
		CreateMedianMS:        quantile(field(func(s Sample) float64 { return s.CreateMS }), 0.5),
		ScheduledMedianMS:     quantile(field(func(s Sample) float64 { return s.ScheduledMS }), 0.5),
		InitializedMedianMS:   quantile(field(func(s Sample) float64 { return s.InitializedMS }), 0.5),
		KubeletStartedMedianS: startedMedian,
	}
}

// quantile of sorted values, the median of an even count being the mean
// of the middle two; q = 1 is the maximum. Nearest rank otherwise.
func quantile(sorted []float64, q float64) float64 {
	n := len(sorted)
	switch {
	case n == 0:
		return 0
	case q == 0.5 && n%2 == 0:
		return (sorted[n/2-1] + sorted[n/2]) / 2
	case q == 0.5:
		return sorted[n/2]
	}
	i := int(q*float64(n)+0.5) - 1
	return sorted[max(0, min(i, n-1))]
}

// MS is d in milliseconds, as the samples hold it.
func MS(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
