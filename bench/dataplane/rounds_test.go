package dataplane

import (
	"context"
	"os"
	"slices"
	"testing"

	"github.com/planeless/planeless/bench/load"
)

func TestAlternateReversesTheOrderEveryOtherRoundAndMergesEachPath(t *testing.T) {
	b := &Bench{Paths: []*Path{{Name: "a"}, {Name: "b"}, {Name: "c"}}}
	// The test process stands in for every sidecar: it spends CPU while
	// a path runs, so each path's sidecars are charged some.
	self := Sidecar{pid: os.Getpid()}
	sidecars := [][]Sidecar{{self}, {self, self}, nil}
	var order []string
	latency := map[string]float64{"a": 1, "b": 2, "c": 3}
	run := func(_ context.Context, p *Path) (load.Result, error) {
		order = append(order, p.Name)
		for x := 0; x < 4e6; x++ { // burn a little CPU (over the clock tick)
			latency[p.Name] += 0
		}
		return load.Result{Sent: 10, OK: 9, Errors: 1, Seconds: 1, Latency: load.Latency{P50: latency[p.Name], P99: latency[p.Name] * 10}}, nil
	}
	var after []int
	got, err := b.alternate(t.Context(), sidecars, 3, run, func(i int) { after = append(after, i) })
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a", "b", "c", "c", "b", "a", "a", "b", "c"}; !slices.Equal(order, want) {
		t.Errorf("paths ran in the order %v, want %v", order, want)
	}
	if want := []int{0, 1, 2, 2, 1, 0, 0, 1, 2}; !slices.Equal(after, want) {
		t.Errorf("after was called for %v, want %v", after, want)
	}
	for i, r := range got {
		name := b.Paths[i].Name
		if r.Sent != 30 || r.OK != 27 || r.Errors != 3 || r.Latency.P50 != latency[name] || r.Latency.P99 != 10*latency[name] {
			t.Errorf("path %s merged to %+v, want 30 sent, 27 ok, 3 errors, its own latencies", name, r.Result)
		}
		if len(r.CPU) != len(sidecars[i]) {
			t.Fatalf("path %s has CPU for %d sidecars, want %d", name, len(r.CPU), len(sidecars[i]))
		}
		for j, s := range r.CPU {
			if s <= 0 {
				t.Errorf("path %s sidecar %d was charged %v CPU seconds, want some", name, j, s)
			}
		}
	}
}
