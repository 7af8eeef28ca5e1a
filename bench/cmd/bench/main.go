// Command bench is `make bench`: it runs every measurement of issue 6 in
// one go and writes report.json and report.md into -out.
//
//  1. admission: the Go benchmarks of bench/workload (mutate path, render,
//     scale), then webhook.Serve and its TLS baseline under load;
//  2. data plane and 3. start-up: TestBench of bench/dataplane, on the
//     network-namespace harness (root);
//  4. scale: the render benchmarks for 1, 10 and 100 ports;
//  5. pod start-up: TestBenchStartup of tests/node, on a real one-node
//     cluster (root): create to Ready, injected and not.
//
// BENCH_QUICK=1 (or -quick) shortens every run.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/planeless/planeless/bench/admission"
	"github.com/planeless/planeless/bench/dataplane"
	"github.com/planeless/planeless/bench/podstart"
	"github.com/planeless/planeless/bench/proc"
	"github.com/planeless/planeless/bench/report"
	"github.com/planeless/planeless/bench/workload"
	"github.com/planeless/planeless/tests/need"
)

func main() {
	out := flag.String("out", "bench/results", "folder for report.json and report.md")
	quick := flag.Bool("quick", os.Getenv("BENCH_QUICK") == "1", "short runs (also BENCH_QUICK=1)")
	rerender := flag.Bool("rerender", false, "measure nothing: rewrite report.md (and the targets) from -out's report.json")
	testing.Init()
	flag.Parse()
	run := run
	if *rerender {
		run = func(out string, _ bool) error { return rewrite(out) }
	}
	if err := run(*out, *quick); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(out string, quick bool) error {
	start := time.Now()
	root := need.RepoRoot()
	work, err := os.MkdirTemp("", "planeless-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	r := &report.Report{Quick: quick, Generated: start.UTC().Format(time.RFC3339), Skipped: map[string]string{}}
	r.Machine = machine()

	phase := func(name string) {
		step(name)
		r.LoadByPhase = append(r.LoadByPhase, report.PhaseLoad{Phase: name, LoadAvg: proc.LoadAverage()})
	}
	phase("Go benchmarks of the admission path")
	if r.Benchmarks, err = goBenchmarks(root, quick); err != nil {
		return err
	}

	phase("webhook and baseline under TLS load")
	if r.Admission, err = admissionLoad(root, work, quick); err != nil {
		return err
	}

	phase("data plane and start-up (network namespaces)")
	dp, err := dataPlane(root, work, quick)
	if err != nil {
		r.Skipped["the data plane and start-up"] = err.Error()
		fmt.Fprintln(os.Stderr, "bench: data plane:", err)
	} else {
		r.DataPlane = dp
		r.Ratios = report.Ratios(dp)
	}

	phase("pod start-up on a real node")
	if r.PodStartup, err = podStartup(root, work, quick); err != nil {
		r.Skipped["pod start-up on a real node"] = err.Error()
		fmt.Fprintln(os.Stderr, "bench: pod start-up:", err)
	}

	r.Machine.LoadAvgEnd = proc.LoadAverage()
	r.Seconds = time.Since(start).Seconds()
	report.Evaluate(r)
	if err := write(out, r); err != nil {
		return err
	}
	step(fmt.Sprintf("wrote %s/report.md and report.json in %.0f s", out, r.Seconds))
	if len(r.Skipped) > 0 {
		return fmt.Errorf("parts were not measured: %v", r.Skipped)
	}
	return nil
}

// rewrite renders report.md again from report.json.
func rewrite(out string) error {
	data, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		return err
	}
	var r report.Report
	if err := json.Unmarshal(data, &r); err != nil {
		return fmt.Errorf("reading report.json: %w", err)
	}
	report.Evaluate(&r)
	return write(out, &r)
}

func write(out string, r *report.Report) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	ablation, err := readAblation(out)
	if err != nil {
		return err
	}
	r.Ablation = ablation
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "report.json"), append(data, '\n'), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "report.md"), []byte(report.Markdown(r)), 0o644)
}

func step(s string) { fmt.Fprintf(os.Stderr, "==> %s %s\n", time.Now().Format("15:04:05"), s) }

func goBenchmarks(root string, quick bool) ([]report.Benchmark, error) {
	benchtime := "2s"
	if quick {
		benchtime = "300ms"
	}
	if err := flag.Set("test.benchtime", benchtime); err != nil {
		return nil, err
	}
	cases, err := workload.Cases(root)
	if err != nil {
		return nil, err
	}
	var out []report.Benchmark
	for _, c := range cases {
		res := testing.Benchmark(c.Run)
		if res.N == 0 {
			return nil, fmt.Errorf("benchmark %s failed", c.Name)
		}
		b := report.Benchmark{
			Name: c.Name, Iterations: res.N, NsPerOp: float64(res.T.Nanoseconds()) / float64(res.N),
			BytesPerOp: res.AllocedBytesPerOp(), AllocsPerOp: res.AllocsPerOp(),
			BootstrapBytes: int(res.Extra[workload.BootstrapBytesUnit]),
		}
		fmt.Fprintf(os.Stderr, "    %-40s %12.0f ns/op %10d B/op %8d allocs/op\n", b.Name, b.NsPerOp, b.BytesPerOp, b.AllocsPerOp)
		out = append(out, b)
	}
	return out, nil
}

func admissionLoad(root, work string, quick bool) (report.AdmissionLoad, error) {
	a := report.AdmissionLoad{Reviews: 10000, Warmup: 500, Pod: "the emojivoto web pod (tests/corpus/emojivoto.yaml)", LargeReviews: 2000}
	if quick {
		a.Reviews, a.Warmup, a.LargeReviews = 1000, 100, 200
	}
	pod, err := workload.Emojivoto(root)
	if err != nil {
		return a, err
	}
	bin := filepath.Join(work, "webhookd")
	if err := goBuild(root, bin, "./bench/cmd/webhookd"); err != nil {
		return a, err
	}
	dir := filepath.Join(work, "admission")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return a, err
	}
	a.Levels, err = admission.Run(context.Background(), admission.Config{
		Webhookd: bin, Dir: dir, Pod: pod,
		Concurrency: []int{1, 8, 64}, Reviews: a.Reviews, Warmup: a.Warmup,
	})
	if err != nil {
		return a, err
	}
	large := filepath.Join(work, "admission-large")
	if err := os.Mkdir(large, 0o755); err != nil {
		return a, err
	}
	a.Large, err = admission.Run(context.Background(), admission.Config{
		Webhookd: bin, Dir: large, Pod: workload.Raw(workload.Large()),
		Concurrency: []int{1}, Reviews: a.LargeReviews, Warmup: a.LargeReviews / 10,
	})
	for _, l := range append(slices.Clone(a.Levels), a.Large...) {
		fmt.Fprintf(os.Stderr, "    concurrency %2d: baseline %.0f/s p50 %.2f ms, planeless %.0f/s p50 %.2f ms (p99 ratio %.2f)\n",
			l.Concurrency, l.Baseline.Throughput, l.Baseline.Latency.P50, l.Planeless.Throughput, l.Planeless.Latency.P50, l.Ratio.P99)
	}
	return a, err
}

func dataPlane(root, work string, quick bool) (*dataplane.Result, error) {
	var r dataplane.Result
	if err := testResult(root, work, "./bench/dataplane", "TestBench", "BENCH_DATAPLANE", quick, &r); err != nil {
		return nil, err
	}
	for _, p := range r.Paths {
		fmt.Fprintf(os.Stderr, "    %-14s HTTP p99 %.2f ms, max %.0f/s; gRPC p99 %.2f ms, max %.0f/s\n", p.Name,
			p.HTTPFixed.Latency.P99, p.HTTPMax.Throughput, p.GRPCFixed.Latency.P99, p.GRPCMax.Throughput)
	}
	return &r, nil
}

func podStartup(root, work string, quick bool) (*podstart.Result, error) {
	var r podstart.Result
	if err := testResult(root, work, "./tests/node", "TestBenchStartup", "BENCH_STARTUP", quick, &r); err != nil {
		return nil, err
	}
	for _, k := range []struct {
		name string
		s    podstart.Summary
	}{{"uninjected", r.Uninjected}, {"injected", r.Injected}} {
		fmt.Fprintf(os.Stderr, "    %-10s create to Ready: median %.0f ms, p90 %.0f ms, max %.0f ms (%d pods)\n", k.name, k.s.MedianMS, k.s.P90MS, k.s.MaxMS, k.s.Pods)
	}
	fmt.Fprintf(os.Stderr, "    added by the sidecar (medians): %.0f ms\n", r.AddedMS)
	return &r, nil
}

func goBuild(root, out, pkg string) error {
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w: %s", pkg, err, strings.TrimSpace(string(b)))
	}
	return nil
}

// readAblation reads the last `make bench-ablation` run from out, nil when
// there is none.
func readAblation(out string) (*dataplane.Ablation, error) {
	data, err := os.ReadFile(filepath.Join(out, "ablation.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var a dataplane.Ablation
	if err := json.Unmarshal(data, &a); err != nil {
		return nil, fmt.Errorf("reading ablation.json: %w", err)
	}
	return &a, nil
}
