package podstart

import "testing"

func TestSummarizeSplitsTheKindsAndSubtractsTheMedians(t *testing.T) {
	var samples []Sample
	for i, ms := range []float64{1000, 1200, 1100, 1400, 1300} {
		samples = append(samples,
			Sample{Injected: true, ReadyMS: ms + 500, CreateMS: 10, ScheduledMS: 20, InitializedMS: 900,
				KubeletStartedS: map[string]float64{"planeless-proxy": 0, "app": float64(1 + i%2)}},
			Sample{Injected: false, ReadyMS: ms, CreateMS: float64(i), ScheduledMS: 20, InitializedMS: 30})
	}
	r := Summarize(samples, 1)
	if r.Pods != 5 || r.Warmup != 1 || r.Injected.Pods != 5 || r.Uninjected.Pods != 5 {
		t.Fatalf("pods: %d per kind (%d injected, %d not), warm-up %d; want 5, 5, 5, 1", r.Pods, r.Injected.Pods, r.Uninjected.Pods, r.Warmup)
	}
	checks := []struct {
		what      string
		got, want float64
	}{
		{"uninjected median", r.Uninjected.MedianMS, 1200},
		{"uninjected p90", r.Uninjected.P90MS, 1400},
		{"uninjected max", r.Uninjected.MaxMS, 1400},
		{"uninjected create median", r.Uninjected.CreateMedianMS, 2},
		{"injected median", r.Injected.MedianMS, 1700},
		{"injected initialized median", r.Injected.InitializedMedianMS, 900},
		{"added", r.AddedMS, 500},
		{"injected app's kubelet start median", r.Injected.KubeletStartedMedianS["app"], 1},
	}
	if r.Uninjected.KubeletStartedMedianS != nil {
		t.Errorf("uninjected kubelet starts %v, want none (no sample has any)", r.Uninjected.KubeletStartedMedianS)
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
}

func TestTheMedianOfAnEvenCountIsTheMeanOfTheMiddleTwo(t *testing.T) {
	if got := quantile([]float64{1, 2, 4, 8}, 0.5); got != 3 {
		t.Errorf("median of 1 2 4 8 = %v, want 3", got)
	}
	if got := quantile(nil, 0.9); got != 0 {
		t.Errorf("p90 of nothing = %v, want 0", got)
	}
}
