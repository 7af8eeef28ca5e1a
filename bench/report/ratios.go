package report

import (
	"github.com/planeless/planeless/bench/dataplane"
)

// Ratios compares the data-plane paths.
func Ratios(r *dataplane.Result) *DataPlaneRatios {
	direct := r.Path(dataplane.Direct)
	if direct == nil {
		return nil
	}
	out := &DataPlaneRatios{
		ToDirect:       map[string]PathRatio{},
		AddedHTTPP99MS: map[string]float64{},
		AddedGRPCP99MS: map[string]float64{},
	}
	for _, p := range r.Paths {
		if p.Name == dataplane.Direct {
			continue
		}
		out.ToDirect[p.Name] = ratio(&p, direct)
		out.AddedHTTPP99MS[p.Name] = p.HTTPFixed.Latency.P99 - direct.HTTPFixed.Latency.P99
		out.AddedGRPCP99MS[p.Name] = p.GRPCFixed.Latency.P99 - direct.GRPCFixed.Latency.P99
	}
	pl, eq := r.Path(dataplane.Planeless), r.Path(dataplane.EnvoyQuickly)
	if pl != nil && eq != nil {
		out.PlanelessEnvoyQuickly = ratio(pl, eq)
		out.PlanelessEnvoyQuickly.CPUPer1000 = div(MeanCPU(pl), MeanCPU(eq))
		out.PlanelessEnvoyQuickly.IdleRSS = div(MeanIdleRSS(pl), MeanIdleRSS(eq))
	}
	if nl := r.Path(dataplane.PlanelessNoLog); nl != nil && eq != nil {
		out.NoLogEnvoyQuickly = ratio(nl, eq)
		out.NoLogEnvoyQuickly.CPUPer1000 = div(MeanCPU(nl), MeanCPU(eq))
		out.NoLogEnvoyQuickly.IdleRSS = div(MeanIdleRSS(nl), MeanIdleRSS(eq))
	}
	return out
}

func ratio(a, b *dataplane.PathResult) PathRatio {
	return PathRatio{
		HTTPP50:    div(a.HTTPFixed.Latency.P50, b.HTTPFixed.Latency.P50),
		HTTPP90:    div(a.HTTPFixed.Latency.P90, b.HTTPFixed.Latency.P90),
		HTTPP99:    div(a.HTTPFixed.Latency.P99, b.HTTPFixed.Latency.P99),
		GRPCP50:    div(a.GRPCFixed.Latency.P50, b.GRPCFixed.Latency.P50),
		GRPCP90:    div(a.GRPCFixed.Latency.P90, b.GRPCFixed.Latency.P90),
		GRPCP99:    div(a.GRPCFixed.Latency.P99, b.GRPCFixed.Latency.P99),
		HTTPMaxRPS: div(a.HTTPMax.Throughput, b.HTTPMax.Throughput),
		GRPCMaxRPS: div(a.GRPCMax.Throughput, b.GRPCMax.Throughput),
	}
}

// MeanCPU is the mean HTTP CPU seconds per 1,000 requests of a path's
// sidecars.
func MeanCPU(p *dataplane.PathResult) float64 {
	var sum float64
	for _, s := range p.Sidecars {
		sum += s.HTTPCPUPer1000
	}
	return div(sum, float64(len(p.Sidecars)))
}

// MeanIdleRSS is the mean idle RSS of a path's sidecars, in bytes.
func MeanIdleRSS(p *dataplane.PathResult) float64 {
	var sum float64
	for _, s := range p.Sidecars {
		sum += float64(s.IdleRSSBytes)
	}
	return div(sum, float64(len(p.Sidecars)))
}

func div(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
