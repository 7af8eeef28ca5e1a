package dataplane

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/planeless/planeless/bench/load"
	"github.com/planeless/planeless/tests/harness"
)

// An ablation prices the parts of planeless's sidecar: the same client
// and server pods run with their rendered bootstraps whole and with parts
// taken out, next to envoy-quickly, at a fixed rate in alternating rounds;
// the difference in the sidecars' CPU per request is what a part costs.
// The bootstraps are edited as JSON, so what runs is exactly what
// `planeless inject` rendered, less the named filters and loggers.

// Cut takes a part out of a bootstrap, decoded as JSON.
type Cut func(bootstrap map[string]any)

// Variant is one configuration of an ablation: what is cut from the
// client's bootstrap and from the server's.
type Variant struct {
	Name           string
	Client, Server []Cut
}

// Filter and logger names the variants cut.
const (
	grpcStatsFilter = "envoy.filters.http.grpc_stats"
	statsLogger     = "envoy.access_loggers.stats"
	stdoutLogger    = "envoy.access_loggers.stdout"
)

// Names of the variants the report reads.
const (
	Whole       = "whole"
	NoTagRules  = "without the names' shape checks (tag rules)"
	NoMetrics   = "without request metrics"
	NoAccessLog = "without access log"
	NoneOfThem  = "without all three (and gRPC stats)"
)

// Variants are the configurations of `make bench-ablation`.
var Variants = []Variant{
	{Name: Whole},
	{Name: NoTagRules, Client: []Cut{CutTagRules}},
	{Name: NoMetrics, Client: []Cut{CutAccessLog(statsLogger)}, Server: []Cut{CutAccessLog(statsLogger)}},
	{Name: NoAccessLog, Client: []Cut{CutAccessLog(stdoutLogger)}, Server: []Cut{CutAccessLog(stdoutLogger)}},
	{
		Name:   NoneOfThem,
		Client: []Cut{CutTagRules, CutHTTPFilter(grpcStatsFilter), CutAccessLog(statsLogger), CutAccessLog(stdoutLogger)},
		Server: []Cut{CutHTTPFilter(grpcStatsFilter), CutAccessLog(statsLogger), CutAccessLog(stdoutLogger)},
	},
}

// CutTagRules labels with the names as sent, unchecked: it takes the
// rules out of every stats tag.
func CutTagRules(b map[string]any) {
	eachObject(b, func(o map[string]any) {
		if _, tag := o["value_format"]; tag {
			delete(o, "rules")
		}
	})
}

// CutHTTPFilter removes the HTTP filter name from every connection
// manager.
func CutHTTPFilter(name string) Cut { return cutNamed("http_filters", name) }

// CutAccessLog removes the access logger name from every connection
// manager.
func CutAccessLog(name string) Cut { return cutNamed("access_log", name) }

func cutNamed(list, name string) Cut {
	return func(b map[string]any) {
		eachObject(b, func(o map[string]any) {
			items, ok := o[list].([]any)
			if !ok {
				return
			}
			o[list] = slices.DeleteFunc(items, func(item any) bool {
				m, ok := item.(map[string]any)
				return ok && m["name"] == name
			})
		})
	}
}

// eachObject calls f on every JSON object in v, outermost first.
func eachObject(v any, f func(map[string]any)) {
	switch v := v.(type) {
	case map[string]any:
		f(v)
		for _, x := range v {
			eachObject(x, f)
		}
	case []any:
		for _, x := range v {
			eachObject(x, f)
		}
	}
}

// Ablated returns a copy of pod named name, its bootstrap annotation cut.
func Ablated(pod *corev1.Pod, name string, cuts []Cut) (*corev1.Pod, error) {
	p := pod.DeepCopy()
	p.Name = name
	var b map[string]any
	if err := json.Unmarshal([]byte(p.Annotations[harness.BootstrapAnnotation]), &b); err != nil {
		return nil, fmt.Errorf("pod %s: reading its bootstrap: %w", pod.Name, err)
	}
	for _, cut := range cuts {
		cut(b)
	}
	out, err := json.Marshal(b)
	if err != nil {
		return nil, err
	}
	p.Annotations[harness.BootstrapAnnotation] = string(out)
	return p, nil
}

// Ablation is one `make bench-ablation` run: every variant and
// envoy-quickly at Rate requests a second, Rounds alternating rounds of
// RoundSeconds each.
type Ablation struct {
	Date         string        `json:"date"`
	LoadAvg      float64       `json:"load_average_1m_at_start"`
	Rate         float64       `json:"rate"`
	Rounds       int           `json:"rounds"`
	RoundSeconds float64       `json:"round_seconds"`
	Rows         []AblationRow `json:"rows"`
}

// Row is path's row in mode, nil when the run has none.
func (a *Ablation) Row(path, mode string) *AblationRow {
	for i := range a.Rows {
		if a.Rows[i].Path == path && a.Rows[i].Mode == mode {
			return &a.Rows[i]
		}
	}
	return nil
}

// AblationRow is one path under one kind of load.
type AblationRow struct {
	Path string `json:"path"`
	Mode string `json:"mode"`
	// CPU seconds of the client's and the server's Envoy per 1,000
	// requests.
	ClientCPUPer1000 float64      `json:"client_cpu_seconds_per_1000_requests"`
	ServerCPUPer1000 float64      `json:"server_cpu_seconds_per_1000_requests"`
	Latency          load.Latency `json:"latency_ms"`
	Sent             int          `json:"sent"`
	Errors           int          `json:"errors"`
}

// Ablate drives every path of b (each with a client and a server sidecar)
// at rate for rounds rounds of per each, alternating the order, in each
// mode ("http", "grpc").
func (b *Bench) Ablate(ctx context.Context, modes []string, rate float64, rounds int, per time.Duration) ([]AblationRow, error) {
	sidecars := make([][]Sidecar, len(b.Paths))
	for i, p := range b.Paths {
		for _, pod := range []*harness.Pod{p.Client, p.Server} {
			pid, err := EnvoyPID(ctx, pod)
			if err != nil {
				return nil, err
			}
			sidecars[i] = append(sidecars[i], Sidecar{pid: pid})
		}
	}
	var rows []AblationRow
	for _, mode := range modes {
		for _, p := range b.Paths { // warm up
			if _, err := b.Benchload(ctx, p, mode, rate, 16, int(rate/2), time.Minute); err != nil {
				return nil, err
			}
		}
		run := func(ctx context.Context, p *Path) (load.Result, error) {
			return b.Benchload(ctx, p, mode, rate, 16, 0, per)
		}
		measured, err := b.alternate(ctx, sidecars, rounds, run, nil)
		if err != nil {
			return nil, err
		}
		for i, m := range measured {
			rows = append(rows, AblationRow{
				Path: b.Paths[i].Name, Mode: mode, Latency: m.Latency, Sent: m.Sent, Errors: m.Errors,
				ClientCPUPer1000: m.perThousand(0), ServerCPUPer1000: m.perThousand(1),
			})
		}
	}
	return rows, nil
}
