package report

import (
	"fmt"
	"strings"

	"github.com/planeless/planeless/bench/admission"
	"github.com/planeless/planeless/bench/dataplane"
)

// Markdown renders r as report.md.
func Markdown(r *Report) string {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }

	p("# planeless benchmark report")
	p("")
	mode := "full"
	if r.Quick {
		mode = "quick (`BENCH_QUICK=1`: shorter runs, fewer reviews)"
	}
	p("Produced by `make bench` on %s in %.0f s, %s mode. Every number below comes from this one run;", r.Generated, r.Seconds, mode)
	p("each measurement runs next to its baseline on the same machine. Raw data: [report.json](report.json).")
	p("")
	p("## Machine")
	p("")
	m := r.Machine
	p("| CPU | cores | memory | kernel | Go | Envoy | load average (1 min) at start / end |")
	p("| --- | --- | --- | --- | --- | --- | --- |")
	p("| %s | %d | %.1f GiB | %s | %s | %s | %.2f / %.2f |", m.CPU, m.Cores, float64(m.MemoryBytes)/(1<<30), m.Kernel, m.Go, m.Envoy, m.LoadAvgStart, m.LoadAvgEnd)
	p("")
	if len(r.LoadByPhase) > 0 {
		var phases []string
		for _, l := range r.LoadByPhase {
			phases = append(phases, fmt.Sprintf("%s %.2f", l.Phase, l.LoadAvg))
		}
		p("Load average (1 min) when each phase began: %s.", strings.Join(phases, ", "))
		p("")
	}
	busy := m.LoadAvgStart > float64(m.Cores)
	for _, l := range r.LoadByPhase {
		// A phase begins right after the previous one, whose own load is
		// still in the 1-minute average: only more than 1.5 per core says
		// that something else was running.
		busy = busy || l.LoadAvg > 1.5*float64(m.Cores)
	}
	if busy {
		p("> The machine was busy with other work during this run: latency tails and CPU figures are noisier than on an idle machine; ratios, measured back to back, are the more robust numbers.")
		p("")
	}

	p("## Targets")
	p("")
	p("| area | target (issue 14) | measured | |")
	p("| --- | --- | --- | --- |")
	for _, t := range r.Targets {
		mark := "met"
		if !t.Met {
			mark = "**missed**"
		}
		p("| %s | %s | %s | %s |", t.Area, t.Target, t.Measured, mark)
	}
	p("")
	for k, v := range r.Skipped {
		p("> %s was not measured: %s", k, v)
		p("")
	}

	admissionSection(p, r)
	if r.DataPlane != nil {
		dataPlaneSection(p, r)
		startupSection(p, r.DataPlane.Startup)
	}
	scaleSection(p, r)
	if r.PodStartup != nil {
		podStartupSection(p, r.PodStartup)
	}
	if f := Findings(r); len(f) > 0 {
		p("## What limits the numbers")
		p("")
		for _, x := range f {
			p("- %s", x)
			p("")
		}
	}
	return b.String()
}

type printer func(format string, a ...any)

func admissionSection(p printer, r *Report) {
	p("## 1. Admission")
	p("")
	p("Go benchmarks (`go test -bench Admission ./inject`, the same cases): `patch/*` is the whole mutate path,")
	p("`inject.Injector.Patch` on the raw JSON an AdmissionReview carries, for the first pod of its shape (its bootstrap")
	p("rendered); `patch-cached/*` the same for every later pod of the shape, its bootstrap from the webhook's cache")
	p("(`bootstrap.Cache`, as the webhook serves); `render/*` is `bootstrap.Render` alone;")
	p("`render-steps/*` split render into building and validating the typed bootstrap (`build`, its configs not marshalled)")
	p("and printing it as JSON (`print`); `render-steps/protojson` prints the same bootstrap with protojson, as render did before;")
	p("`render-yaml/*` is the YAML form (`bootstrap.RenderYAML`, what `planeless render` prints), for comparison.")
	p("")
	p("| benchmark | time/op | allocated/op | allocs/op | bootstrap |")
	p("| --- | ---: | ---: | ---: | ---: |")
	for _, bm := range r.Benchmarks {
		size := ""
		if bm.BootstrapBytes > 0 {
			size = fmt.Sprintf("%.1f KB", float64(bm.BootstrapBytes)/1000)
		}
		p("| %s | %s | %.2f MB | %d | %s |", bm.Name, dur(bm.NsPerOp), float64(bm.BytesPerOp)/1e6, bm.AllocsPerOp, size)
	}
	p("")
	a := r.Admission
	p("The webhook over TLS (`webhook.Serve`, its own process) next to a baseline process on the same TLS stack")
	p("(controller-runtime's webhook server and certwatcher, TLS 1.2+) that answers \"allowed\" without work.")
	p("A Go client sends %d AdmissionReview v1 requests per level (after %d to warm up) for %s, each with its", a.Reviews, a.Warmup, a.Pod)
	p("own UID, and checks every answer (planeless: allowed with a JSON patch; baseline: its own message).")
	p("A review's latency runs from sending it to having read the whole answer; decoding and checking the answer,")
	p("the generator's own work, comes after and is not counted (a client's next review waits for it all the same).")
	p("\"counted\" is how many injections planeless's own metrics recorded during the run.")
	p("")
	if len(a.Large) > 0 {
		p("The large pod (20 containers, 2,000 environment variables, 50 volumes) is reviewed %d times at one client.", a.LargeReviews)
		p("")
	}
	p("| pod, concurrency | server | reviews ok | errors | throughput | p50 | p99 | RSS after | CPU | counted |")
	p("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	type level struct {
		pod string
		admission.Level
	}
	var levels []level
	for _, l := range a.Levels {
		levels = append(levels, level{"emojivoto", l})
	}
	for _, l := range a.Large {
		levels = append(levels, level{"large", l})
	}
	for _, l := range levels {
		for _, s := range []struct {
			name string
			m    measure
		}{{"baseline", measure(l.Baseline)}, {"planeless", measure(l.Planeless)}} {
			counted := "–"
			if s.m.ServerCounted != nil {
				counted = fmt.Sprint(*s.m.ServerCounted)
			}
			p("| %s, %d | %s | %d | %d | %.0f/s | %.2f ms | %.2f ms | %.1f MiB | %.1f s | %s |", l.pod, l.Concurrency, s.name, s.m.OK, s.m.Errors,
				s.m.Throughput, s.m.Latency.P50, s.m.Latency.P99, float64(s.m.RSSBytes)/mib, s.m.CPUSeconds, counted)
		}
		p("| %s, %d | **ratio** | | | **%.2f** | **%.2f** | **%.2f** | **%.2f** | | |", l.pod, l.Concurrency, l.Ratio.Throughput, l.Ratio.P50, l.Ratio.P99, l.Ratio.RSS)
	}
	p("")
}

func dataPlaneSection(p printer, r *Report) {
	dp := r.DataPlane
	c := dp.Config
	p("## 2. Data plane")
	p("")
	p("Pods are network namespaces on this machine (`tests/harness`): the client's app is the load generator, the")
	p("server's app is `tests/apps/testapp rest -grpc` (REST echo and gRPC on one port, 8080). Four paths:")
	p("**direct** (no sidecars), **planeless** (both pods injected by `planeless inject`: `planeless init` rules,")
	p("Envoy with the rendered bootstrap, as UID 1337; its default JSON access log on), **planeless-no-access-log**")
	p("(the same with `planeless.dev/access-log: \"off\"`, to show what the log costs) and **envoy-quickly** (its proxy-init rules and its Envoy")
	p("configuration translated to v3, `bench/envoyquickly/`, with the same Envoy binary and the same")
	p("`--concurrency 2`). HTTP/1.1: keep-alive POSTs of a 1 KiB body echoed back; gRPC: unary calls with a 1 KiB")
	p("payload. Fixed rate: %.0f requests/s for %s in %d rounds that alternate between the paths, open-loop over %d", c.Rate, c.Fixed, max(1, c.Rounds), c.Connections)
	p("connections, latency measured from when each request was due (Go generator, `bench/cmd/benchload`); counts")
	p("are summed over the rounds, percentiles are the median of the rounds'. Saturation: `wrk -t2 -c%d` for HTTP and %d closed-loop", c.Connections, c.Connections)
	p("gRPC workers, %s each. All processes share the machine's %d cores.", c.Max, r.Machine.Cores)
	p("")
	p("### Latency at %.0f requests/s", c.Rate)
	p("")
	p("| path | HTTP p50 | p90 | p99 | errors | gRPC p50 | p90 | p99 | errors |")
	p("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, x := range dp.Paths {
		h, g := x.HTTPFixed, x.GRPCFixed
		p("| %s | %.3f ms | %.3f ms | %.3f ms | %d | %.3f ms | %.3f ms | %.3f ms | %d |", x.Name,
			h.Latency.P50, h.Latency.P90, h.Latency.P99, h.Errors, g.Latency.P50, g.Latency.P90, g.Latency.P99, g.Errors)
	}
	p("")
	p("### Maximum throughput")
	p("")
	p("| path | HTTP (wrk) | HTTP p99 under saturation | non-2xx + socket errors | gRPC | gRPC p99 under saturation | errors |")
	p("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, x := range dp.Paths {
		p("| %s | %.0f/s | %.2f ms | %d | %.0f/s | %.2f ms | %d |", x.Name, x.HTTPMax.Throughput, x.HTTPMax.Latency.P99,
			x.HTTPMax.Non2xx+x.HTTPMax.Errors, x.GRPCMax.Throughput, x.GRPCMax.Latency.P99, x.GRPCMax.Errors)
	}
	p("")
	p("### Per sidecar")
	p("")
	p("CPU is user + system time of the Envoy process during the fixed-rate run, per 1,000 requests (at 1,000 rps,")
	p("the vCPU it uses). RSS: idle after start-up, the most seen right after a load run, and the kernel's peak;")
	p("\"private\" is its anonymous part (RssAnon), the rest being the Envoy binary's pages that every sidecar on a node shares.")
	p("Idle PSS divides each shared page among the processes mapping it; \"only its own\" is every page no other process maps")
	p("(with one Envoy per path on the machine, the binary's pages count there). Stats: one scrape of the sidecar's")
	p("Prometheus endpoint, idle (none for envoy-quickly, which has no scrape endpoint of its own).")
	p("")
	p("| path | sidecar | CPU s / 1,000 HTTP | CPU s / 1,000 gRPC | RSS idle (private) | PSS idle (only its own) | RSS under load (private) | RSS peak | stats idle |")
	p("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, x := range dp.Paths {
		for _, s := range x.Sidecars {
			stats := "–"
			if s.IdleStatsSeries > 0 {
				stats = fmt.Sprintf("%d series, %.1f KB", s.IdleStatsSeries, float64(s.IdleStatsBytes)/1e3)
			}
			p("| %s | %s | %.3f | %.3f | %.1f MiB (%.1f) | %.1f MiB (%.1f) | %.1f MiB (%.1f) | %.1f MiB | %s |", x.Name, s.Role, s.HTTPCPUPer1000, s.GRPCCPUPer1000,
				float64(s.IdleRSSBytes)/mib, float64(s.IdleAnonBytes)/mib, float64(s.IdlePSSBytes)/mib, float64(s.IdlePrivateBytes)/mib,
				float64(s.LoadRSSBytes)/mib, float64(s.LoadAnonBytes)/mib, float64(s.PeakRSSBytes)/mib, stats)
		}
	}
	p("")
	if q := r.Ratios; q != nil {
		p("### Ratios")
		p("")
		p("| comparison | HTTP p50 | p90 | p99 | gRPC p50 | p90 | p99 | HTTP max | gRPC max | sidecar CPU | idle RSS |")
		p("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
		row := func(name string, x PathRatio, resources bool) {
			cpu, rss := "", ""
			if resources {
				cpu, rss = fmt.Sprintf("%.2f", x.CPUPer1000), fmt.Sprintf("%.2f", x.IdleRSS)
			}
			p("| %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %s | %s |", name, x.HTTPP50, x.HTTPP90, x.HTTPP99,
				x.GRPCP50, x.GRPCP90, x.GRPCP99, x.HTTPMaxRPS, x.GRPCMaxRPS, cpu, rss)
		}
		for _, x := range dp.Paths {
			if ratio, ok := q.ToDirect[x.Name]; ok {
				row(x.Name+" / direct", ratio, false)
			}
		}
		row("planeless / envoy-quickly", q.PlanelessEnvoyQuickly, true)
		if dp.Path(dataplane.PlanelessNoLog) != nil {
			row("planeless-no-access-log / envoy-quickly", q.NoLogEnvoyQuickly, true)
		}
		p("")
		p("Added p99 over direct at %.0f rps:", c.Rate)
		p("")
		for _, x := range dp.Paths {
			if _, ok := q.ToDirect[x.Name]; ok {
				p("- %s: %+.2f ms HTTP, %+.2f ms gRPC", x.Name, q.AddedHTTPP99MS[x.Name], q.AddedGRPCP99MS[x.Name])
			}
		}
		p("")
	}
}

func startupSection(p printer, s dataplane.Startup) {
	p("## 3. Start-up")
	p("")
	p("Medians of %d runs, each in a fresh network namespace.", s.Runs)
	p("")
	p("| step | time |")
	p("| --- | ---: |")
	p("| `planeless init` installs its rules (timed from outside: `ip netns exec` and process start included) | %.1f ms |", s.InitMS)
	p("| … of which starting any process that way (`true`) | %.1f ms |", s.ExecOverheadMS)
	p("| the same rules (`planeless init --dry-run`) with one `iptables-restore` per family, timed the same way | %.1f ms |", s.RestoreMS)
	p("| Envoy start to first 200 from `/ready`, planeless's rendered bootstrap | %.1f ms |", s.PlanelessReadyMS)
	p("| Envoy start to first 200 from `/ready`, envoy-quickly's configuration | %.1f ms |", s.EnvoyQuicklyReadyMS)
	p("| extra time before the app starts (rules, then Envoy ready) | %.1f ms |", s.ExtraMS)
	p("")
	p("On a node the app starts once the native sidecar's postStart hook (`planeless wait`) returns, which it does as")
	p("soon as Envoy answers `/ready`; section 5 measures the whole pod.")
	p("")
}

func scaleSection(p printer, r *Report) {
	p("## 4. Scale")
	p("")
	p("`bootstrap.Render` for a pod with n intercepted ports (one container, n TCP ports).")
	p("")
	p("| ports | render time | allocated | bootstrap size |")
	p("| ---: | ---: | ---: | ---: |")
	for _, bm := range r.Benchmarks {
		if n, ok := strings.CutPrefix(bm.Name, "render/ports-"); ok {
			p("| %s | %s | %.2f MB | %.1f KB |", n, dur(bm.NsPerOp), float64(bm.BytesPerOp)/1e6, float64(bm.BootstrapBytes)/1000)
		}
	}
	p("")
}

type measure = admission.Measure

func dur(ns float64) string {
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.1f µs", ns/1e3)
	}
	return fmt.Sprintf("%.0f ns", ns)
}
