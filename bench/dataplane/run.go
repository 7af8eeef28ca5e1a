package dataplane

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/planeless/planeless/bench/load"
	"github.com/planeless/planeless/tests/harness"
)

// appUID is the user the client's app runs as: its traffic is what the
// sidecar captures.
func appUID(p *harness.Pod) int64 {
	if p.AppUID != 0 {
		return p.AppUID
	}
	return harness.DefaultAppUID
}

// Benchload runs the generator in the path's client pod as the app.
func (b *Bench) Benchload(ctx context.Context, p *Path, mode string, rate float64, concurrency, requests int, d time.Duration) (load.Result, error) {
	args := []string{b.BenchloadBin, mode, "-rate", fmt.Sprint(rate), "-c", strconv.Itoa(concurrency),
		"-n", strconv.Itoa(requests), "-duration", d.String()}
	if mode == "http" {
		args = append(args, "-url", p.URL)
	} else {
		args = append(args, "-target", p.Target)
	}
	out, err := p.Client.Exec(ctx, appUID(p.Client), args...)
	if err != nil {
		return load.Result{}, fmt.Errorf("%s: benchload %s: %w\n%s", p.Name, mode, err, out)
	}
	var r load.Result
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		return load.Result{}, fmt.Errorf("%s: benchload %s output %q: %w", p.Name, mode, out, err)
	}
	return r, nil
}

// Wrk is what wrk reports.
type Wrk struct {
	Connections int `json:"connections"`
	// Requests completed, and those answered with a status other than 2xx
	// or 3xx, plus socket errors.
	Requests   int          `json:"requests"`
	Non2xx     int          `json:"non_2xx"`
	Errors     int          `json:"socket_errors"`
	Seconds    float64      `json:"seconds"`
	Throughput float64      `json:"throughput_rps"`
	Latency    load.Latency `json:"latency_ms"`
}

// Wrk runs wrk (HTTP/1.1 keep-alive POSTs of 1 KiB) in the path's client
// pod as the app, closed-loop with the given connections on two threads.
func (b *Bench) Wrk(ctx context.Context, p *Path, connections int, d time.Duration) (Wrk, error) {
	out, err := p.Client.Exec(ctx, appUID(p.Client), "wrk", "-t", "2", "-c", strconv.Itoa(connections),
		"-d", fmt.Sprintf("%ds", int(d.Seconds())), "--latency", "-s", b.WrkScript, p.URL)
	if err != nil {
		return Wrk{}, fmt.Errorf("%s: wrk: %w\n%s", p.Name, err, out)
	}
	w, err := parseWrk(out)
	w.Connections = connections
	if err != nil {
		return w, fmt.Errorf("%s: %w\n%s", p.Name, err, out)
	}
	return w, nil
}

var (
	wrkTotal   = regexp.MustCompile(`(\d+) requests in ([\d.]+)(us|ms|s|m)`)
	wrkPct     = regexp.MustCompile(`(?m)^\s+(50|90|99)%\s+([\d.]+)(us|ms|s)`)
	wrkNon2xx  = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	wrkSocket  = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	wrkLatency = regexp.MustCompile(`(?m)^\s+Latency\s+([\d.]+)(us|ms|s)\s+[\d.]+\w+\s+([\d.]+)(us|ms|s)`)
)

func parseWrk(out string) (Wrk, error) {
	var w Wrk
	m := wrkTotal.FindStringSubmatch(out)
	if m == nil {
		return w, fmt.Errorf("no request count in wrk's output")
	}
	w.Requests, _ = strconv.Atoi(m[1])
	w.Seconds = toMS(m[2], m[3]) / 1000
	w.Throughput = float64(w.Requests) / w.Seconds
	for _, m := range wrkPct.FindAllStringSubmatch(out, -1) {
		v := toMS(m[2], m[3])
		switch m[1] {
		case "50":
			w.Latency.P50 = v
		case "90":
			w.Latency.P90 = v
		case "99":
			w.Latency.P99 = v
		}
	}
	if m := wrkLatency.FindStringSubmatch(out); m != nil {
		w.Latency.Mean = toMS(m[1], m[2])
		w.Latency.Max = toMS(m[3], m[4])
	}
	if m := wrkNon2xx.FindStringSubmatch(out); m != nil {
		w.Non2xx, _ = strconv.Atoi(m[1])
	}
	if m := wrkSocket.FindStringSubmatch(out); m != nil {
		for _, s := range m[1:] {
			n, _ := strconv.Atoi(s)
			w.Errors += n
		}
	}
	return w, nil
}

func toMS(v, unit string) float64 {
	f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
	switch unit {
	case "us":
		return f / 1000
	case "s":
		return f * 1000
	case "m":
		return f * 60000
	}
	return f
}
