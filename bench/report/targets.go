package report

import (
	"fmt"

	"github.com/planeless/planeless/bench/dataplane"
)

const mib = 1 << 20

// Evaluate fills r.Targets from issue 14's goals (see the README's "What it
// costs"): admission an order of magnitude ahead of Istio's injector, a
// bootstrap flat in the ports, rules in one restore per family, a
// lighter sidecar, and under 1 s added to a pod's start on a real node.
func Evaluate(r *Report) {
	var t []Target
	add := func(area, target, measured string, met bool) {
		t = append(t, Target{Area: area, Target: target, Measured: measured, Met: met})
	}
	// A Deployment's pods share their shape: every pod after the first
	// gets its bootstrap from the webhook's cache (patch-cached/*); the
	// first is rendered (patch/*), and reported next to it.
	for _, c := range []struct {
		pod            string
		maxNs, maxByte float64
	}{{"emojivoto", 0.3e6, 100e3}, {"large", 2e6, 2e6}} {
		b, first := r.benchmark("patch-cached/"+c.pod), r.benchmark("patch/"+c.pod)
		if b == nil || first == nil {
			continue
		}
		add("admission", fmt.Sprintf("%s pod mutated in ≤ %s with ≤ %.0f KB allocated (pods after the first of their shape)", c.pod, dur(c.maxNs), c.maxByte/1e3),
			fmt.Sprintf("%s, %.0f KB (the first pod of its shape: %s, %.0f KB)", dur(b.NsPerOp), float64(b.BytesPerOp)/1e3, dur(first.NsPerOp), float64(first.BytesPerOp)/1e3),
			b.NsPerOp <= c.maxNs && float64(b.BytesPerOp) <= c.maxByte)
	}
	for _, l := range r.Admission.Levels {
		switch l.Concurrency {
		case 64:
			add("admission", "TLS webhook at concurrency 64: ≥ 10% of the no-op server's throughput",
				fmt.Sprintf("%.1f%% (%.0f/s vs %.0f/s)", 100*l.Ratio.Throughput, l.Planeless.Throughput, l.Baseline.Throughput), l.Ratio.Throughput >= 0.1)
		case 1:
			add("admission", "TLS webhook p50 at one client ≤ 0.5 ms (typical pod)",
				fmt.Sprintf("%.2f ms (the no-op server's: %.2f ms)", l.Planeless.Latency.P50, l.Baseline.Latency.P50), l.Planeless.Latency.P50 <= 0.5)
		}
	}
	for _, l := range r.Admission.Large {
		add("admission", "TLS webhook p50 at one client ≤ 3 ms (large pod)",
			fmt.Sprintf("%.2f ms (the no-op server's: %.2f ms)", l.Planeless.Latency.P50, l.Baseline.Latency.P50), l.Planeless.Latency.P50 <= 3)
	}
	if b := r.benchmark("render/ports-100"); b != nil {
		add("admission", "bootstrap of a pod with 100 intercepted ports ≤ 30 KB, rendered in ≤ 1 ms",
			fmt.Sprintf("%.1f KB, %s", float64(b.BootstrapBytes)/1e3, dur(b.NsPerOp)), b.BootstrapBytes <= 30e3 && b.NsPerOp <= 1e6)
	}
	if dp := r.DataPlane; dp != nil && r.Ratios != nil {
		q := r.Ratios.PlanelessEnvoyQuickly
		add("data plane", "HTTP p99 no worse than envoy-quickly's (ratio ≤ 1.0)", fmt.Sprintf("%.2f", q.HTTPP99), q.HTTPP99 <= 1.0)
		add("data plane", "gRPC p99 within 5% of envoy-quickly's (ratio ≤ 1.05)", fmt.Sprintf("%.2f", q.GRPCP99), q.GRPCP99 <= 1.05)
		add("data plane", "sidecar CPU within 5% of envoy-quickly's (ratio ≤ 1.05)", fmt.Sprintf("%.2f", q.CPUPer1000), q.CPUPer1000 <= 1.05)
		if pl := dp.Path(dataplane.Planeless); pl != nil {
			var worstPrivate, worstAnon, worstPSS int64
			worstSeries, worstBytes := 0, 0
			for _, s := range pl.Sidecars {
				worstPrivate, worstAnon, worstPSS = max(worstPrivate, s.IdlePrivateBytes), max(worstAnon, s.IdleAnonBytes), max(worstPSS, s.IdlePSSBytes)
				worstSeries, worstBytes = max(worstSeries, s.IdleStatsSeries), max(worstBytes, s.IdleStatsBytes)
			}
			add("data plane", "sidecar memory idle: private (anonymous) ≤ 10 MiB, PSS reported (worst sidecar)",
				fmt.Sprintf("%.1f MiB anonymous; PSS %.1f MiB, pages only it maps %.1f MiB (the Envoy binary's, when it is the only Envoy running)",
					float64(worstAnon)/mib, float64(worstPSS)/mib, float64(worstPrivate)/mib), worstAnon <= 10*mib)
			add("data plane", fmt.Sprintf("stats per idle pod: at most half the %d series (%d KB a scrape) before the inclusion list", statsBeforeSeries, statsBeforeBytes/1000),
				fmt.Sprintf("%d series, %.1f KB", worstSeries, float64(worstBytes)/1e3), worstSeries > 0 && worstSeries <= statsBeforeSeries/2)
		}
		s := dp.Startup
		add("start-up", "rules installed in < 30 ms (one iptables-restore per family)", fmt.Sprintf("%.0f ms (process start included)", s.InitMS), s.InitMS < 30)
	}
	if ps := r.PodStartup; ps != nil && ps.Pods > 0 {
		add("start-up", "pod start-up on a real node: under 1 s added from create to Ready (injected − uninjected medians)",
			fmt.Sprintf("%+.2f s (injected %.2f s, uninjected %.2f s; medians of %d pods each)",
				ps.AddedMS/1e3, ps.Injected.MedianMS/1e3, ps.Uninjected.MedianMS/1e3, ps.Pods), ps.AddedMS < 1000)
	}
	r.Targets = t
}

// statsBeforeSeries and statsBeforeBytes are one scrape of an idle
// emojivoto web sidecar before the stats inclusion list (Envoy 1.40, this
// machine, 2026-12-02): the baseline of the stats target.
const (
	statsBeforeSeries = 2244
	statsBeforeBytes  = 319912
)

func (r *Report) benchmark(name string) *Benchmark {
	for i := range r.Benchmarks {
		if r.Benchmarks[i].Name == name {
			return &r.Benchmarks[i]
		}
	}
	return nil
}
