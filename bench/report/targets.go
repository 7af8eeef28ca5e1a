package report

import (
	"fmt"

	"github.com/planeless/planeless/bench/dataplane"
)

const mib = 1 << 20

// Evaluate fills r.Targets from the targets.
func Evaluate(r *Report) {
	var t []Target
	add := func(area, target, measured string, met bool) {
		t = append(t, Target{Area: area, Target: target, Measured: measured, Met: met})
	}
	if b := r.benchmark("patch/emojivoto"); b != nil {
		add("admission", "typical pod (emojivoto web) mutated in < 1 ms",
			fmt.Sprintf("%.2f ms", b.NsPerOp/1e6), b.NsPerOp < 1e6)
	}
	if b := r.benchmark("patch/large"); b != nil {
		add("admission", "large pod mutated in < 20 ms",
			fmt.Sprintf("%.2f ms", b.NsPerOp/1e6), b.NsPerOp < 20e6)
		add("admission", "large pod mutated with < 10 MB allocated",
			fmt.Sprintf("%.1f MB", float64(b.BytesPerOp)/1e6), b.BytesPerOp < 10e6)
	}
	for _, l := range r.Admission.Levels {
		if l.Concurrency == 64 {
			add("admission", "TLS webhook p99 within 2x of the baseline's at concurrency 64",
				fmt.Sprintf("%.2fx (%.2f ms vs %.2f ms)", l.Ratio.P99, l.Planeless.Latency.P99, l.Baseline.Latency.P99), l.Ratio.P99 <= 2)
		}
	}
	if dp := r.DataPlane; dp != nil && r.Ratios != nil {
		if added, ok := r.Ratios.AddedHTTPP99MS[dataplane.Planeless]; ok {
			add("data plane", "added HTTP p99 through both sidecars < 1 ms over direct at 1,000 rps",
				fmt.Sprintf("%+.2f ms", added), added < 1)
		}
		q := r.Ratios.PlanelessEnvoyQuickly
		add("data plane", "HTTP p99 no worse than envoy-quickly's (ratio ≤ 1.05)", fmt.Sprintf("%.2f", q.HTTPP99), q.HTTPP99 <= 1.05)
		add("data plane", "gRPC p99 no worse than envoy-quickly's (ratio ≤ 1.05)", fmt.Sprintf("%.2f", q.GRPCP99), q.GRPCP99 <= 1.05)
		if pl := dp.Path(dataplane.Planeless); pl != nil {
			worstCPU, worstRSS, worstAnon := 0.0, int64(0), int64(0)
			for _, s := range pl.Sidecars {
				worstCPU = max(worstCPU, s.HTTPCPUPer1000)
				worstRSS = max(worstRSS, s.IdleRSSBytes)
				worstAnon = max(worstAnon, s.IdleAnonBytes)
			}
			add("data plane", "< 0.15 vCPU per 1,000 requests per sidecar (HTTP, worst sidecar)",
				fmt.Sprintf("%.3f", worstCPU), worstCPU < 0.15)
			add("data plane", "Envoy RSS idle < 30 MB (worst sidecar)",
				fmt.Sprintf("%.1f MiB (private part %.1f MiB; the rest is the binary's shared pages)", float64(worstRSS)/mib, float64(worstAnon)/mib), worstRSS < 30*mib)
		}
		s := dp.Startup
		add("start-up", "rules installed in < 100 ms", fmt.Sprintf("%.0f ms (process start included)", s.InitMS), s.InitMS < 100)
		add("start-up", "Envoy ready in < 1 s", fmt.Sprintf("%.0f ms", s.PlanelessReadyMS), s.PlanelessReadyMS < 1000)
	}
	r.Targets = t
}

func (r *Report) benchmark(name string) *Benchmark {
	for i := range r.Benchmarks {
		if r.Benchmarks[i].Name == name {
			return &r.Benchmarks[i]
		}
	}
	return nil
}
