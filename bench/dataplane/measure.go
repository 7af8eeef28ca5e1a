package dataplane

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/planeless/planeless/bench/load"
	"github.com/planeless/planeless/bench/proc"
	"github.com/planeless/planeless/tests/harness"
)

// Config says how long and how hard to drive each path.
type Config struct {
	// Rate is the fixed rate of the latency runs (requests per second).
	Rate float64 `json:"rate_rps"`
	// Connections is the generators' connection count (HTTP/1.1
	// connections, gRPC workers).
	Connections int `json:"connections"`
	// Fixed is the length of each fixed-rate run, Max of each saturation
	// run.
	Fixed time.Duration `json:"fixed_rate_run_ns"`
	Max   time.Duration `json:"max_run_ns"`
	// Rounds splits each fixed-rate run into this many rounds.
	Rounds int `json:"rounds"`
}

// PathResult is one path measured.
type PathResult struct {
	Name      string      `json:"name"`
	HTTPFixed load.Result `json:"http_fixed_rate"`
	GRPCFixed load.Result `json:"grpc_fixed_rate"`
	HTTPMax   Wrk         `json:"http_max"`
	GRPCMax   load.Result `json:"grpc_max"`
	// Sidecars are the client's and the server's Envoy (none on the direct
	// path).
	Sidecars []Sidecar `json:"sidecars,omitempty"`
}

// Sidecar is one Envoy's cost.
type Sidecar struct {
	Role string `json:"role"`
	// IdleRSSBytes is resident memory after start-up, before any traffic;
	// LoadRSSBytes the most seen right after a load run; PeakRSSBytes the
	// kernel's high-water mark at the end.
	IdleRSSBytes int64 `json:"idle_rss_bytes"`
	LoadRSSBytes int64 `json:"load_rss_bytes"`
	PeakRSSBytes int64 `json:"peak_rss_bytes"`
	// IdleAnonBytes and LoadAnonBytes are the private (anonymous) part of
	// RSS, idle and the most seen after a load run; the rest of RSS is the
	// Envoy binary's pages, shared by every sidecar of a node.
	IdleAnonBytes int64 `json:"idle_anon_bytes"`
	LoadAnonBytes int64 `json:"load_anon_bytes"`
	// IdlePSSBytes and IdlePrivateBytes are the proportional set size and
	// the pages only this Envoy maps, idle (proc.Memory).
	IdlePSSBytes     int64 `json:"idle_pss_bytes"`
	IdlePrivateBytes int64 `json:"idle_private_bytes"`
	// IdleStatsSeries and IdleStatsBytes are one scrape of the sidecar's
	// Prometheus endpoint, idle: samples and bytes (0 where the path has
	// no scrape endpoint of its own).
	IdleStatsSeries int `json:"idle_stats_series"`
	IdleStatsBytes  int `json:"idle_stats_bytes"`
	// CPU seconds this Envoy used per 1,000 requests of the fixed-rate
	// runs (at 1,000 rps that is also vCPU used).
	HTTPCPUPer1000 float64 `json:"http_cpu_seconds_per_1000_requests"`
	GRPCCPUPer1000 float64 `json:"grpc_cpu_seconds_per_1000_requests"`
	pid            int
}

// MeasureAll runs every load against every path. Each kind of load runs on
// the paths one after the other, and the fixed-rate runs are split into
// c.Rounds rounds that alternate between paths, so that whatever else the
// machine does hits all paths alike; a fixed-rate result is the sum of its
// rounds' counts with the median of their percentiles.
func (b *Bench) MeasureAll(ctx context.Context, c Config) ([]PathResult, error) {
	results := make([]PathResult, len(b.Paths))
	for i, p := range b.Paths {
		r := &results[i]
		r.Name = p.Name
		if p.Name == Direct {
			continue
		}
		for _, sc := range []struct {
			role string
			pod  *harness.Pod
		}{{"client", p.Client}, {"server", p.Server}} {
			pid, err := EnvoyPID(ctx, sc.pod)
			if err != nil {
				return nil, err
			}
			mem, err := proc.MemoryOf(pid)
			if err != nil {
				return nil, err
			}
			sidecar := Sidecar{Role: sc.role, pid: pid, IdleRSSBytes: mem.RSS, IdleAnonBytes: mem.Anon, IdlePSSBytes: mem.PSS, IdlePrivateBytes: mem.Private}
			sidecar.IdleStatsSeries, sidecar.IdleStatsBytes = scrapeSize(sc.pod)
			r.Sidecars = append(r.Sidecars, sidecar)
		}
	}
	// Warm up: connections, the forward proxy's DNS cache, Envoy's
	// per-worker state.
	for _, p := range b.Paths {
		for _, mode := range []string{"http", "grpc"} {
			w, err := b.Benchload(ctx, p, mode, c.Rate, c.Connections, int(c.Rate/2), time.Minute)
			if err != nil {
				return nil, err
			}
			if w.Errors > 0 {
				return nil, fmt.Errorf("%s: %s warm-up: %d errors, first: %s", p.Name, mode, w.Errors, w.FirstError)
			}
		}
	}

	sidecars := make([][]Sidecar, len(results))
	for i := range results {
		sidecars[i] = results[i].Sidecars
	}
	rounds := max(1, c.Rounds)
	for _, mode := range []string{"http", "grpc"} {
		fixed := func(ctx context.Context, p *Path) (load.Result, error) {
			return b.Benchload(ctx, p, mode, c.Rate, c.Connections, 0, c.Fixed/time.Duration(rounds))
		}
		measured, err := b.alternate(ctx, sidecars, rounds, fixed, func(i int) { b.sampleRSS(results[i].Sidecars) })
		if err != nil {
			return nil, err
		}
		for i, m := range measured {
			r := &results[i]
			for j := range r.Sidecars {
				if mode == "http" {
					r.Sidecars[j].HTTPCPUPer1000 = m.perThousand(j)
				} else {
					r.Sidecars[j].GRPCCPUPer1000 = m.perThousand(j)
				}
			}
			if mode == "http" {
				r.HTTPFixed = m.Result
			} else {
				r.GRPCFixed = m.Result
			}
		}
	}
	for i, p := range b.Paths {
		r := &results[i]
		var err error
		if r.HTTPMax, err = b.Wrk(ctx, p, c.Connections, c.Max); err != nil {
			return nil, err
		}
		b.sampleRSS(r.Sidecars)
	}
	for i, p := range b.Paths {
		r := &results[i]
		var err error
		if r.GRPCMax, err = b.Benchload(ctx, p, "grpc", 0, c.Connections, 0, c.Max); err != nil {
			return nil, err
		}
		b.sampleRSS(r.Sidecars)
	}
	for i := range results {
		for j := range results[i].Sidecars {
			if mem, err := proc.MemoryOf(results[i].Sidecars[j].pid); err == nil {
				results[i].Sidecars[j].PeakRSSBytes = mem.Peak
			}
		}
	}
	return results, nil
}

// merge sums the rounds' counts and takes the median of their latencies.
func merge(rounds []load.Result) load.Result {
	if len(rounds) == 0 {
		return load.Result{}
	}
	out := rounds[0]
	out.Sent, out.OK, out.Errors, out.Seconds = 0, 0, 0, 0
	var p50, p90, p99, mean, maxes []float64
	for _, r := range rounds {
		out.Sent += r.Sent
		out.OK += r.OK
		out.Errors += r.Errors
		out.Seconds += r.Seconds
		if out.FirstError == "" {
			out.FirstError = r.FirstError
		}
		p50, p90, p99 = append(p50, r.Latency.P50), append(p90, r.Latency.P90), append(p99, r.Latency.P99)
		mean, maxes = append(mean, r.Latency.Mean), append(maxes, r.Latency.Max)
	}
	out.Throughput = float64(out.OK) / out.Seconds
	out.Latency = load.Latency{P50: median(p50), P90: median(p90), P99: median(p99), Mean: median(mean), Max: slices.Max(maxes)}
	return out
}

func (b *Bench) cpu(ss []Sidecar) []float64 {
	out := make([]float64, len(ss))
	for i, s := range ss {
		out[i], _ = proc.CPUSeconds(s.pid)
	}
	return out
}

func (b *Bench) sampleRSS(ss []Sidecar) {
	for i := range ss {
		if mem, err := proc.MemoryOf(ss[i].pid); err == nil {
			ss[i].LoadRSSBytes = max(ss[i].LoadRSSBytes, mem.RSS)
			ss[i].LoadAnonBytes = max(ss[i].LoadAnonBytes, mem.Anon)
		}
	}
}

// scrapeSize scrapes pod's Prometheus endpoint once, as Prometheus does:
// the samples (lines that are not comments) and the bytes of the answer;
// zeros when there is none.
func scrapeSize(pod *harness.Pod) (series, size int) {
	body, status, err := harness.HostGet(fmt.Sprintf("http://%s%s", net.JoinHostPort(pod.IP.String(), strconv.Itoa(pod.StatsPort)), pod.StatsPath))
	if err != nil || status != http.StatusOK {
		return 0, 0
	}
	for line := range strings.Lines(body) {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			series++
		}
	}
	return series, len(body)
}
