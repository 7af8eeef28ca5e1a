package dataplane

import (
	"context"
	"fmt"
	"time"

	"github.com/planeless/planeless/bench/load"
	"github.com/planeless/planeless/bench/proc"
	"github.com/planeless/planeless/tests/harness"
)

// Config says how long and how hard to drive each path.
type Config struct {
	// Rate is the fixed rate of the latency runs (requests per second).
	Rate float64
	// Connections is the generators' connection count (HTTP/1.1
	// connections, gRPC workers).
	Connections int
	// Fixed is the length of each fixed-rate run, Max of each saturation
	// run.
	Fixed, Max time.Duration
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
	// CPU seconds this Envoy used per 1,000 requests of the fixed-rate
	// runs (at 1,000 rps that is also vCPU used).
	HTTPCPUPer1000 float64 `json:"http_cpu_seconds_per_1000_requests"`
	GRPCCPUPer1000 float64 `json:"grpc_cpu_seconds_per_1000_requests"`
	pid            int
}

// Measure runs every load against path p.
func (b *Bench) Measure(ctx context.Context, p *Path, c Config) (PathResult, error) {
	r := PathResult{Name: p.Name}
	if p.Name != Direct {
		for _, sc := range []struct {
			role string
			pod  *harness.Pod
		}{{"client", p.Client}, {"server", p.Server}} {
			pid, err := EnvoyPID(ctx, sc.pod)
			if err != nil {
				return r, err
			}
			mem, err := proc.MemoryOf(pid)
			if err != nil {
				return r, err
			}
			r.Sidecars = append(r.Sidecars, Sidecar{Role: sc.role, pid: pid, IdleRSSBytes: mem.RSS})
		}
	}
	// Warm up: connections, the forward proxy's DNS cache, Envoy's
	// per-worker state.
	for _, mode := range []string{"http", "grpc"} {
		w, err := b.Benchload(ctx, p, mode, c.Rate, c.Connections, int(c.Rate/2), time.Minute)
		if err != nil {
			return r, err
		}
		if w.Errors > 0 {
			return r, fmt.Errorf("%s: %s warm-up: %d errors, first: %s", p.Name, mode, w.Errors, w.FirstError)
		}
	}

	var err error
	for _, run := range []struct {
		mode string
		dst  *load.Result
		cpu  func(*Sidecar) *float64
	}{
		{"http", &r.HTTPFixed, func(s *Sidecar) *float64 { return &s.HTTPCPUPer1000 }},
		{"grpc", &r.GRPCFixed, func(s *Sidecar) *float64 { return &s.GRPCCPUPer1000 }},
	} {
		before := b.cpu(r.Sidecars)
		if *run.dst, err = b.Benchload(ctx, p, run.mode, c.Rate, c.Connections, 0, c.Fixed); err != nil {
			return r, err
		}
		after := b.cpu(r.Sidecars)
		for i := range r.Sidecars {
			if run.dst.Sent > 0 {
				*run.cpu(&r.Sidecars[i]) = (after[i] - before[i]) / float64(run.dst.Sent) * 1000
			}
		}
		b.sampleRSS(r.Sidecars)
	}
	if r.HTTPMax, err = b.Wrk(ctx, p, c.Connections, c.Max); err != nil {
		return r, err
	}
	b.sampleRSS(r.Sidecars)
	if r.GRPCMax, err = b.Benchload(ctx, p, "grpc", 0, c.Connections, 0, c.Max); err != nil {
		return r, err
	}
	b.sampleRSS(r.Sidecars)
	for i := range r.Sidecars {
		if mem, err := proc.MemoryOf(r.Sidecars[i].pid); err == nil {
			r.Sidecars[i].PeakRSSBytes = mem.Peak
		}
	}
	return r, nil
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
		}
	}
}
