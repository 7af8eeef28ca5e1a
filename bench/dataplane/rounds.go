package dataplane

import (
	"context"

	"github.com/planeless/planeless/bench/load"
)

// roundsResult is what alternating rounds measured of one path: its
// rounds' results merged, and the CPU seconds each of its sidecars spent
// in them.
type roundsResult struct {
	load.Result
	CPU []float64
}

// perThousand is the CPU seconds of sidecar j per 1,000 requests sent.
func (r roundsResult) perThousand(j int) float64 {
	return r.CPU[j] / float64(max(1, r.Sent)) * 1000
}

// alternate runs one load on every path for rounds rounds, reversing the
// order of the paths every other round so that no path always runs first
// and whatever else the machine does hits every path alike. sidecars[i]
// are path i's sidecars, whose CPU time is counted while its load runs;
// after is called after each run of path i (nil: nothing).
func (b *Bench) alternate(ctx context.Context, sidecars [][]Sidecar, rounds int,
	run func(ctx context.Context, p *Path) (load.Result, error), after func(i int)) ([]roundsResult, error) {
	results := make([][]load.Result, len(b.Paths))
	cpu := make([][]float64, len(b.Paths))
	for i := range b.Paths {
		cpu[i] = make([]float64, len(sidecars[i]))
	}
	for round := range max(1, rounds) {
		for k := range b.Paths {
			i := k
			if round%2 == 1 {
				i = len(b.Paths) - 1 - k
			}
			before := b.cpu(sidecars[i])
			r, err := run(ctx, b.Paths[i])
			if err != nil {
				return nil, err
			}
			for j, s := range b.cpu(sidecars[i]) {
				cpu[i][j] += s - before[j]
			}
			results[i] = append(results[i], r)
			if after != nil {
				after(i)
			}
		}
	}
	out := make([]roundsResult, len(b.Paths))
	for i := range out {
		out[i] = roundsResult{Result: merge(results[i]), CPU: cpu[i]}
	}
	return out, nil
}
