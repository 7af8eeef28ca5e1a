package report

import (
	"strings"
	"testing"

	"github.com/planeless/planeless/bench/admission"
	"github.com/planeless/planeless/bench/dataplane"
	"github.com/planeless/planeless/bench/load"
	_ "github.com/planeless/planeless/tests/golden"
)

func latency(p50, p99 float64) load.Result {
	return load.Result{OK: 100, Sent: 100, Latency: load.Latency{P50: p50, P90: p50, P99: p99}}
}

func sample() *Report {
	r := &Report{
		Machine: Machine{Cores: 2},
		Benchmarks: []Benchmark{
			{Name: "patch/emojivoto", NsPerOp: 0.5e6},
			{Name: "patch/large", NsPerOp: 30e6, BytesPerOp: 5e6},
		},
		Admission: AdmissionLoad{Levels: []admission.Level{{
			Concurrency: 64,
			Ratio:       admission.Ratios{P99: 1.5},
		}}},
		DataPlane: &dataplane.Result{
			Paths: []dataplane.PathResult{
				{Name: dataplane.Direct, HTTPFixed: latency(1, 2), GRPCFixed: latency(1, 2)},
				{Name: dataplane.Planeless, HTTPFixed: latency(2, 2.5), GRPCFixed: latency(2, 4),
					Sidecars: []dataplane.Sidecar{{Role: "client", HTTPCPUPer1000: 0.1, IdleRSSBytes: 20 * mib}, {Role: "server", HTTPCPUPer1000: 0.2, IdleRSSBytes: 20 * mib}}},
				{Name: dataplane.EnvoyQuickly, HTTPFixed: latency(2, 2.5), GRPCFixed: latency(2, 3),
					Sidecars: []dataplane.Sidecar{{Role: "client", HTTPCPUPer1000: 0.1}, {Role: "server", HTTPCPUPer1000: 0.1}}},
			},
			Startup: dataplane.Startup{InitMS: 50, PlanelessReadyMS: 2000},
		},
	}
	r.Ratios = Ratios(r.DataPlane)
	return r
}

func TestTargetsAreMarkedFromTheMeasuredNumbers(t *testing.T) {
	r := sample()
	Evaluate(r)
	want := map[string]bool{
		"typical pod (emojivoto web) mutated in < 1 ms":                        true,
		"large pod mutated in < 20 ms":                                         false,
		"large pod mutated with < 10 MB allocated":                             true,
		"TLS webhook p99 within 2x of the baseline's at concurrency 64":        true,
		"added HTTP p99 through both sidecars < 1 ms over direct at 1,000 rps": true,
		"HTTP p99 no worse than envoy-quickly's (ratio ≤ 1.05)":                true,
		"gRPC p99 no worse than envoy-quickly's (ratio ≤ 1.05)":                false,
		"< 0.15 vCPU per 1,000 requests per sidecar (HTTP, worst sidecar)":     false,
		"Envoy RSS idle < 30 MB (worst sidecar)":                               true,
		"rules installed in < 100 ms":                                          true,
		"Envoy ready in < 1 s":                                                 false,
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
	for _, s := range []string{"| direct |", "| planeless |", "| envoy-quickly |", "planeless / envoy-quickly", "**missed**", "## 4. Scale"} {
		if !strings.Contains(md, s) {
			t.Errorf("report.md lacks %q", s)
		}
	}
}
