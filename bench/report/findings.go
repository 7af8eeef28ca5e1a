package report

import (
	"fmt"

	"github.com/planeless/planeless/bench/dataplane"
)

// ablationFinding is what `make bench-ablation` found the parts of the
// sidecar cost, "" without a run.
func ablationFinding(a *dataplane.Ablation) string {
	if a == nil {
		return ""
	}
	both := func(path, mode string) float64 {
		if row := a.Row(path, mode); row != nil {
			return row.ClientCPUPer1000 + row.ServerCPUPer1000
		}
		return 0
	}
	return fmt.Sprintf(" An ablation on the real Envoy (`make bench-ablation`, %s UTC on this machine, load average %.2f "+
		"at its start: %d alternating rounds of %.0f s at %.0f requests/s, each variant a copy of the rendered bootstraps "+
		"with parts removed; bench/results/ablation.json) put the two sidecars' CPU per 1,000 HTTP requests at %.3f s whole, "+
		"%.3f s without the checks of the outbound names (the stats logger's tag rules), %.3f s without the request "+
		"metrics, %.3f s without the access log, %.3f s without all three and the gRPC stats, envoy-quickly's %.3f s; "+
		"per 1,000 gRPC calls %.3f s whole, %.3f s without them all, envoy-quickly's %.3f s. What is left over "+
		"envoy-quickly is what planeless is for: per-request metrics and the access log. Until 2026-12-03 a Lua filter "+
		"bounded the outbound names (a table of at most 200 per pod, the rest counted as (other)): in the ablation "+
		"of 2026-12-03 13:24 UTC the client sidecar took 0.318 s per 1,000 HTTP requests with it, 0.308 s with an empty "+
		"script in its place, 0.297 s without it and 0.278 s with the names checked by the tag rules instead "+
		"(envoy-quickly's: 0.268 s); two probes earlier that day put the filter at 0.044 and 0.047 s, of which the "+
		"coroutine Envoy starts for any script 0.018 s and every call into the stream about 0.005 s more. No script "+
		"could be cheaper, so the names are now checked by Envoy itself, and their number bounded by the stats scope "+
		"(docs/metrics.md).",
		a.Date, a.LoadAvg, a.Rounds, a.RoundSeconds, a.Rate,
		both(dataplane.Whole, "http"), both(dataplane.NoTagRules, "http"), both(dataplane.NoMetrics, "http"),
		both(dataplane.NoAccessLog, "http"), both(dataplane.NoneOfThem, "http"), both(dataplane.EnvoyQuickly, "http"),
		both(dataplane.Whole, "grpc"), both(dataplane.NoneOfThem, "grpc"), both(dataplane.EnvoyQuickly, "grpc"))
}

// Findings are what limits the numbers of r, computed from r where the run
// has the numbers, and the causes found by profiling.
func Findings(r *Report) []string {
	var out []string
	render, yamlForm := r.benchmark("render/emojivoto"), r.benchmark("render-yaml/emojivoto")
	build, printing, pj := r.benchmark("render-steps/build/emojivoto"), r.benchmark("render-steps/print/emojivoto"), r.benchmark("render-steps/protojson/emojivoto")
	patch, cached := r.benchmark("patch/emojivoto"), r.benchmark("patch-cached/emojivoto")
	if render != nil && yamlForm != nil && build != nil && printing != nil && pj != nil && patch != nil && cached != nil {
		out = append(out, fmt.Sprintf("**What the mutate path spends its time on.** For the emojivoto pod the whole mutate path "+
			"takes %s for the first pod of its shape and %s (%.0f KB) for every later one, whose bootstrap comes from the "+
			"webhook's cache (`bootstrap.Cache`, keyed by the pod's Spec, 16 MiB at most; the webhook answers the later "+
			"pods of a ReplicaSet from its answer cache before even that, see below). Rendering is the first pod's cost: %s "+
			"(%.0f KB, %d allocations), of which building and validating the typed bootstrap %s and printing it as JSON %s "+
			"(protojson, which printed it until 2026-12-03, takes %s for the printing alone; YAML, for people: %s). "+
			"Render no longer marshals the typed configs into their Anys: the packer validates each and keeps it beside its "+
			"Any, and `internal/pbjson`, a printer walking protoreflect, prints it from there into one buffer, the bytes "+
			"protojson prints without its whitespace (tested byte for byte). A CPU profile of `patch/emojivoto` (`go test "+
			"-bench Admission/patch/emojivoto -cpuprofile`, 2026-12-03, a busy machine) puts about 90%% of the first pod's path "+
			"in rendering: about 70%% of it printing, of which nearly half is protobuf-go's reflection finding the populated "+
			"fields (`Range`), the rest building, of which about 30%% is PGV validation (`ValidateAll` of every packed "+
			"config and of the bootstrap, which admission keeps: a wrong setting is refused there) and about 30%% the access "+
			"log's configuration; decoding the pod is about 4%%. The patch itself is built from what injection adds (one "+
			"operation per annotation, container, volume and rewritten probe), never by diffing the pod, and the pod is decoded "+
			"without its containers' "+
			"environment and mounts: a pod's size no longer shows in the cost beyond reading it once.",
			dur(patch.NsPerOp), dur(cached.NsPerOp), float64(cached.BytesPerOp)/1e3, dur(render.NsPerOp),
			float64(render.BytesPerOp)/1e3, render.AllocsPerOp, dur(build.NsPerOp), dur(printing.NsPerOp),
			dur(pj.NsPerOp), dur(yamlForm.NsPerOp)))
	}
	for _, l := range r.Admission.Levels {
		if l.Concurrency != 64 || l.Planeless.OK == 0 || l.Baseline.OK == 0 {
			continue
		}
		perPL := l.Planeless.CPUSeconds / float64(l.Planeless.Sent) * 1e3
		perBL := l.Baseline.CPUSeconds / float64(l.Baseline.Sent) * 1e3
		coreSeconds := float64(r.Machine.Cores) * float64(l.Planeless.Sent) / l.Planeless.Throughput
		out = append(out, fmt.Sprintf("**What a review costs the webhook.** At concurrency 64 the webhook process spends %.2f ms "+
			"of CPU per review against the no-op server's %.3f ms (TLS, HTTP, decoding and encoding the review); its p99 is "+
			"%.1fx the no-op server's, 64 clients keeping both saturated (latency ≈ 64 / throughput). The throughput ratio "+
			"is not the servers' alone: the generator runs on the same cores and decodes and checks every answer, planeless's "+
			"45 KB (the patch in base64, then the patch itself) against the no-op server's 100 bytes, and of the %.0f "+
			"core-seconds of planeless's run the webhook used %.1f. Every pod of a "+
			"ReplicaSet after the first a webhook replica sees is answered from its answer cache (`webhook/answers.go`, 16 MiB "+
			"at most): the review is read, the pod's key computed (`inject.KeyOf`: SHA-256 of its JSON but for what the API "+
			"server writes differently for each replica before admission and the injector does not read: managedFields, the "+
			"random name of the service account token volume and the mounts of it) and the first pod's answer written, its "+
			"patch already in base64, by hand into one buffer (byte-equal to encoding/json's, tested): no decoding of the pod, "+
			"no injection, no patch, no base64. On the real node suite four replicas reach two webhook pods and at least two "+
			"are answered from a cache (`TestReplicasAreAnsweredFromTheAnswerCache`). Without TLS, such a review through the "+
			"handler (`go test -bench Review ./webhook`: decoding the review, the key, the metrics and the log line, writing "+
			"the answer) takes 0.02 ms and 11 KB (2026-12-03, this machine), where it took 0.15 ms and 37 KB with only the "+
			"bootstrap cached. What is left under TLS is the TLS and HTTP stack per request and the 45 KB answer encrypted "+
			"and sent: a no-op server answering a patch of the same size, measured by hand the same day, had planeless's p50 "+
			"at one client (0.46 to 0.48 ms against 0.47 to 0.49 ms).", perPL, perBL, l.Ratio.P99, coreSeconds, l.Planeless.CPUSeconds))
	}
	if ports1, ports100 := r.benchmark("render/ports-1"), r.benchmark("render/ports-100"); ports1 != nil && ports100 != nil && ports100.BootstrapBytes > 0 {
		out = append(out, fmt.Sprintf("**The bootstrap is flat in the ports**: %.1f KB for 1 intercepted port, %.1f KB for 100. "+
			"The inbound side has one filter chain per protocol (gRPC, HTTP, TCP) shared by every port and one "+
			"original-destination cluster per upstream protocol; the listener's filter chain matcher names only the ports of "+
			"the less common protocols (about 120 bytes each), so a pod whose ports speak one protocol pays nothing per port. "+
			"The request metrics keep the port called in their destination label.",
			float64(ports1.BootstrapBytes)/1000, float64(ports100.BootstrapBytes)/1000))
	}
	if dp := r.DataPlane; dp != nil {
		pl, nl, eq := dp.Path(dataplane.Planeless), dp.Path(dataplane.PlanelessNoLog), dp.Path(dataplane.EnvoyQuickly)
		if pl != nil && nl != nil && eq != nil {
			out = append(out, fmt.Sprintf("**What planeless adds over envoy-quickly, and what its access log costs.** Median "+
				"latency at 1,000 rps (HTTP / gRPC p50): planeless %.2f / %.2f ms, planeless without its access log %.2f / %.2f ms, "+
				"envoy-quickly %.2f / %.2f ms, direct %.2f / %.2f ms. CPU per 1,000 HTTP requests per sidecar: %.3f s with the "+
				"JSON access log, %.3f s without, %.3f s for envoy-quickly: the log line changes the sidecar's CPU by %+.1f%%, and "+
				"the rest of planeless's additions (the request metrics and their bounded names, above all: see the ablation "+
				"below) cost %+.0f%% over envoy-quickly. Tail latencies (p99) move from one round to the next for every path, "+
				"direct included, when the machine is busy (a probe with four alternating rounds at a load average of 12 saw "+
				"direct's HTTP p99 go from 4.7 ms to 86.6 ms): read them with the load average above, and the medians and CPU as "+
				"the robust comparison.",
				pl.HTTPFixed.Latency.P50, pl.GRPCFixed.Latency.P50, nl.HTTPFixed.Latency.P50, nl.GRPCFixed.Latency.P50,
				eq.HTTPFixed.Latency.P50, eq.GRPCFixed.Latency.P50, direct(dp).HTTPFixed.Latency.P50, direct(dp).GRPCFixed.Latency.P50,
				MeanCPU(pl), MeanCPU(nl), MeanCPU(eq), 100*(MeanCPU(pl)-MeanCPU(nl))/MeanCPU(pl), 100*(MeanCPU(nl)-MeanCPU(eq))/MeanCPU(eq)))
			out = append(out, fmt.Sprintf("**Idle memory is the Envoy binary's, not the bootstrap's.** planeless's sidecars idle at "+
				"%.1f MiB RSS, envoy-quickly's configuration on the same binary and flags at %.1f MiB; the private (anonymous) "+
				"part is %.1f MiB for planeless and %.1f MiB for envoy-quickly. The rest is the pages of the official %s binary "+
				"(107 MB, every extension linked), which all sidecars of a node running the same image share. "+
				"`--concurrency 1` does not change it (15.0 vs 15.3 MiB private, measured by hand). The binary has a floor: "+
				"an Envoy whose configuration is its admin socket alone idles at 13.7 MiB private (measured 2026-12-03 from "+
				"smaps: 4.1 MiB of it the binary's relocated data, the rest its heap before any listener), so a private "+
				"memory under 10 MiB needs a smaller Envoy build; the bootstrap's own share is the difference to that floor.",
				MeanIdleRSS(pl)/mib, MeanIdleRSS(eq)/mib, meanIdleAnon(pl)/mib, meanIdleAnon(eq)/mib, r.Machine.Envoy))
		}
		if pl != nil && eq != nil && r.Ratios != nil {
			out = append(out, fmt.Sprintf("**The added latency and the CPU per request are Envoy's, not planeless's configuration.** "+
				"Through both sidecars HTTP p99 at 1,000 rps rises by %+.2f ms with planeless and by %+.2f ms with envoy-quickly's "+
				"minimal configuration on the same binary, flags and machine; each sidecar uses %.3f s of CPU per 1,000 HTTP "+
				"requests with planeless and %.3f s with envoy-quickly. On this %d-core machine, where the generator, the app and "+
				"both Envoys share the cores, two proxy hops cost nearly that much even with a minimal configuration; the 1 ms and "+
				"0.15 vCPU targets would need faster cores or a lighter proxy, and planeless's own share is the ratio to "+
				"envoy-quickly (%.2f for CPU).%s",
				r.Ratios.AddedHTTPP99MS[dataplane.Planeless], r.Ratios.AddedHTTPP99MS[dataplane.EnvoyQuickly],
				MeanCPU(pl), MeanCPU(eq), r.Machine.Cores, r.Ratios.PlanelessEnvoyQuickly.CPUPer1000, ablationFinding(r.Ablation)))
		}
		if dp.Startup.InitMS > 0 {
			out = append(out, fmt.Sprintf("**`planeless-pod init` takes %.0f ms, process starts included.** The init "+
				"container runs `planeless-pod`, an 11 MB binary of what runs in pods (init, and the proxy's hooks wait and "+
				"drain) without the webhook's dependencies: about 4.5 ms of package initialisation where the 64 MB `planeless` "+
				"takes 30 to 40 (`GODEBUG=inittrace=1`). It chooses the iptables backend with the two saves at once, reuses the "+
				"chosen one's save, then restores both families at once, while it copies itself into the pod for the proxy's "+
				"hooks. The same rules through `iptables-restore` alone took %.0f ms in this run; the rest is the processes "+
				"that choose the backend and read what is installed. `BenchmarkInstall` (`go test -bench Install ./iptables`, "+
				"root) times the install in process and through the CLI.",
				dp.Startup.InitMS, dp.Startup.RestoreMS))
		}
	}
	return out
}

func meanIdleAnon(p *dataplane.PathResult) float64 {
	var sum float64
	for _, s := range p.Sidecars {
		sum += float64(s.IdleAnonBytes)
	}
	return div(sum, float64(len(p.Sidecars)))
}

func direct(dp *dataplane.Result) *dataplane.PathResult {
	if d := dp.Path(dataplane.Direct); d != nil {
		return d
	}
	return &dataplane.PathResult{}
}
