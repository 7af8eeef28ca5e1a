package admission

import (
	"context"
	"fmt"

	"github.com/planeless/planeless/bench/load"
	"github.com/planeless/planeless/bench/proc"
)

// Config says what to run.
type Config struct {
	// Webhookd is the bench/cmd/webhookd binary, which runs either server.
	Webhookd string
	// Dir receives the certificate and the servers' logs.
	Dir string
	// Pod is the raw JSON pod every review carries.
	Pod []byte
	// Concurrency levels, and reviews sent at each (after Warmup more).
	Concurrency []int
	Reviews     int
	Warmup      int
}

// Measure is one server under one load.
type Measure struct {
	load.Result
	// RSSBytes is the server's resident memory after the run, PeakRSSBytes
	// the most it ever held.
	RSSBytes     int64   `json:"rss_bytes"`
	PeakRSSBytes int64   `json:"peak_rss_bytes"`
	CPUSeconds   float64 `json:"cpu_seconds"`
	// ServerCounted is how many reviews the server's own metrics say it
	// injected during the run (planeless only): it must equal OK.
	ServerCounted *int `json:"server_counted,omitempty"`
}

// Level is both servers at one concurrency, and planeless's ratios to the
// baseline.
type Level struct {
	Concurrency int     `json:"concurrency"`
	Baseline    Measure `json:"baseline"`
	Planeless   Measure `json:"planeless"`
	Ratio       Ratios  `json:"ratio_to_baseline"`
}

// Ratios are planeless / baseline.
type Ratios struct {
	Throughput float64 `json:"throughput"`
	P50        float64 `json:"p50"`
	P99        float64 `json:"p99"`
	RSS        float64 `json:"rss"`
}

// Run starts both servers and loads each in turn at every level.
func Run(ctx context.Context, c Config) ([]Level, error) {
	cert, err := NewCert(c.Dir)
	if err != nil {
		return nil, err
	}
	planeless, err := StartPlaneless(c.Webhookd, c.Dir, cert)
	if err != nil {
		return nil, err
	}
	defer planeless.Stop()
	baseline, err := StartBaseline(c.Webhookd, c.Dir, cert)
	if err != nil {
		return nil, err
	}
	defer baseline.Stop()
	probe := NewClient(cert, c.Pod, 1)
	defer probe.Close()
	for _, s := range []*Server{planeless, baseline} {
		if err := s.WaitReady(ctx, probe); err != nil {
			return nil, err
		}
	}

	var levels []Level
	for _, n := range c.Concurrency {
		l := Level{Concurrency: n}
		for _, m := range []struct {
			s   *Server
			dst *Measure
		}{{baseline, &l.Baseline}, {planeless, &l.Planeless}} {
			if *m.dst, err = measure(ctx, c, cert, m.s, n); err != nil {
				return nil, err
			}
		}
		l.Ratio = Ratios{
			Throughput: ratio(l.Planeless.Throughput, l.Baseline.Throughput),
			P50:        ratio(l.Planeless.Latency.P50, l.Baseline.Latency.P50),
			P99:        ratio(l.Planeless.Latency.P99, l.Baseline.Latency.P99),
			RSS:        ratio(float64(l.Planeless.RSSBytes), float64(l.Baseline.RSSBytes)),
		}
		levels = append(levels, l)
	}
	return levels, nil
}

func measure(ctx context.Context, c Config, cert *Cert, s *Server, concurrency int) (Measure, error) {
	client := NewClient(cert, c.Pod, concurrency)
	defer client.Close()
	review := func(ctx context.Context) error { return client.Review(ctx, s) }
	if c.Warmup > 0 {
		if r := load.Run(ctx, load.Options{Concurrency: concurrency, Requests: c.Warmup}, review); r.Errors > 0 {
			return Measure{}, fmt.Errorf("%s warm-up: %d errors, first: %s", s.Name, r.Errors, r.FirstError)
		}
	}
	before, err := counted(s)
	if err != nil {
		return Measure{}, err
	}
	cpu0, err := proc.CPUSeconds(s.PID())
	if err != nil {
		return Measure{}, err
	}
	m := Measure{Result: load.Run(ctx, load.Options{Concurrency: concurrency, Requests: c.Reviews}, review)}
	cpu1, err := proc.CPUSeconds(s.PID())
	if err != nil {
		return Measure{}, err
	}
	m.CPUSeconds = cpu1 - cpu0
	mem, err := proc.MemoryOf(s.PID())
	if err != nil {
		return Measure{}, err
	}
	m.RSSBytes, m.PeakRSSBytes = mem.RSS, mem.Peak
	after, err := counted(s)
	if err != nil {
		return Measure{}, err
	}
	if after != nil {
		n := *after - *before
		m.ServerCounted = &n
	}
	return m, nil
}

func counted(s *Server) (*int, error) {
	if s.MetricsURL == "" {
		return nil, nil
	}
	n, err := Injected(s)
	return &n, err
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
