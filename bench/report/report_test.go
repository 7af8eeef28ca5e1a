package report

import (
	"strings"
	"testing"

	"github.com/planeless/planeless/bench/admission"
	"github.com/planeless/planeless/bench/dataplane"
	"github.com/planeless/planeless/bench/load"
	"github.com/planeless/planeless/bench/podstart"
	_ "github.com/planeless/planeless/tests/golden"
)

func latency(p50, p99 float64) load.Result {
	return load.Result{OK: 100, Sent: 100, Latency: load.Latency{P50: p50, P90: p50, P99: p99}}
}

func sample() *Report {
	r := &Report{
		Machine: Machine{Cores: 2},
		Benchmarks: []Benchmark{
			{Name: "patch/emojivoto", NsPerOp: 0.5e6, BytesPerOp: 400e3},
			{Name: "patch/large", NsPerOp: 30e6, BytesPerOp: 5e6},
			{Name: "patch-cached/emojivoto", NsPerOp: 0.2e6, BytesPerOp: 50e3},
			{Name: "patch-cached/large", NsPerOp: 3e6, BytesPerOp: 1e6},
			{Name: "render/ports-100", NsPerOp: 0.8e6, BootstrapBytes: 26e3},
		},
		Admission: AdmissionLoad{Levels: []admission.Level{
			{Concurrency: 1, Planeless: admission.Measure{Result: latency(0.4, 1)}},
			{Concurrency: 64, Ratio: admission.Ratios{Throughput: 0.05, P99: 1.5}},
		}},
		DataPlane: &dataplane.Result{
			Paths: []dataplane.PathResult{
				{Name: dataplane.Direct, HTTPFixed: latency(1, 2), GRPCFixed: latency(1, 2)},
				{Name: dataplane.Planeless, HTTPFixed: latency(2, 2.5), GRPCFixed: latency(2, 4),
					Sidecars: []dataplane.Sidecar{
						{Role: "client", HTTPCPUPer1000: 0.1, IdleRSSBytes: 60 * mib, IdleAnonBytes: 8 * mib, IdleStatsSeries: 126},
						{Role: "server", HTTPCPUPer1000: 0.2, IdleRSSBytes: 60 * mib, IdleAnonBytes: 9 * mib, IdleStatsSeries: 130},
					}},
				{Name: dataplane.EnvoyQuickly, HTTPFixed: latency(2, 2.5), GRPCFixed: latency(2, 3),
					Sidecars: []dataplane.Sidecar{{Role: "client", HTTPCPUPer1000: 0.1}, {Role: "server", HTTPCPUPer1000: 0.1}}},
			},
			Startup: dataplane.Startup{InitMS: 50, PlanelessReadyMS: 2000},
		},
		PodStartup: &podstart.Result{Pods: 5, AddedMS: 2600,
			Injected:   podstart.Summary{Pods: 5, MedianMS: 3300, KubeletStartedMedianS: map[string]float64{"planeless-init": 0, "planeless-proxy": 1, "app": 3}},
			Uninjected: podstart.Summary{Pods: 5, MedianMS: 700, KubeletStartedMedianS: map[string]float64{"app": 0}}},
	}
	r.Ratios = Ratios(r.DataPlane)
	return r
}

func TestTargetsAreMarkedFromTheMeasuredNumbers(t *testing.T) {
	r := sample()
	Evaluate(r)
	want := map[string]bool{
		"emojivoto pod mutated in ≤ 300.0 µs with ≤ 100 KB allocated (pods after the first of their shape)": true,
		"large pod mutated in ≤ 2.00 ms with ≤ 2000 KB allocated (pods after the first of their shape)":     false,
		"TLS webhook at concurrency 64: ≥ 10% of the no-op server's throughput":                             false,
		"TLS webhook p50 at one client ≤ 0.5 ms (typical pod)":                                              true,
		"bootstrap of a pod with 100 intercepted ports ≤ 30 KB, rendered in ≤ 1 ms":                         true,
		"HTTP p99 no worse than envoy-quickly's (ratio ≤ 1.0)":                                              true,
		"gRPC p99 within 5% of envoy-quickly's (ratio ≤ 1.05)":                                              false,
		"sidecar CPU within 5% of envoy-quickly's (ratio ≤ 1.05)":                                           false,
		"sidecar memory idle: private (anonymous) ≤ 10 MiB, PSS reported (worst sidecar)":                   true,
		"stats per idle pod: at most half the 2244 series (319 KB a scrape) before the inclusion list":      true,
		"rules installed in < 30 ms (one iptables-restore per family)":                                      false,
		"pod start-up on a real node: under 1 s added from create to Ready (injected − uninjected medians)": false,
	}
	if len(r.Targets) != len(want) {
		t.Errorf("%d targets, want %d", len(r.Targets), len(want))
	}
	for _, target := range r.Targets {
		met, ok := want[target.Target]
		if !ok {
			t.Errorf("unexpected target %q", target.Target)
			continue
		}
		if target.Met != met {
			t.Errorf("%q (measured %s): met = %v, want %v", target.Target, target.Measured, target.Met, met)
		}
	}
}

func TestRatiosCompareEachPathWithItsBaseline(t *testing.T) {
	q := sample().Ratios
	if got := q.ToDirect[dataplane.Planeless].HTTPP99; got != 1.25 {
		t.Errorf("planeless/direct HTTP p99 = %v, want 1.25", got)
	}
	if got := q.AddedHTTPP99MS[dataplane.Planeless]; got != 0.5 {
		t.Errorf("added HTTP p99 = %v ms, want 0.5", got)
	}
	if got := q.PlanelessEnvoyQuickly.CPUPer1000; got < 1.49 || got > 1.51 {
		t.Errorf("planeless/envoy-quickly CPU = %v, want 1.5", got)
	}
}

func TestMarkdownShowsEveryPathAndTarget(t *testing.T) {
	r := sample()
	Evaluate(r)
	md := Markdown(r)
	for _, s := range []string{"| direct |", "| planeless |", "| envoy-quickly |", "planeless / envoy-quickly", "**missed**", "## 4. Scale",
		"## 5. Pod start-up on a real node", "**2600 ms**", "injected planeless-init +0.0 s, planeless-proxy +1.0 s, app +3.0 s; uninjected app +0.0 s"} {
		if !strings.Contains(md, s) {
			t.Errorf("report.md lacks %q", s)
		}
	}
}

func TestPodStartupIsMetUnderOneSecondAddedAndAbsentWhenNotMeasured(t *testing.T) {
	const target = "pod start-up on a real node: under 1 s added from create to Ready (injected − uninjected medians)"
	find := func(r *Report) *Target {
		Evaluate(r)
		for i := range r.Targets {
			if r.Targets[i].Target == target {
				return &r.Targets[i]
			}
		}
		return nil
	}
	r := sample()
	r.PodStartup.AddedMS = 900
	if got := find(r); got == nil || !got.Met {
		t.Errorf("900 ms added: %+v, want the target met", got)
	}
	r.PodStartup = nil
	if got := find(r); got != nil {
		t.Errorf("not measured: %+v, want no target", got)
	}
	if md := Markdown(r); strings.Contains(md, "Pod start-up on a real node") {
		t.Error("report.md has a pod start-up section without its numbers")
	}
}
