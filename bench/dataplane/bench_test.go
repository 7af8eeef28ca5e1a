package dataplane

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	_ "github.com/planeless/planeless/tests/golden"
	"github.com/planeless/planeless/tests/harness"
)

// TestBench is `make bench`'s data-plane and start-up part; it only runs
// when BENCH_DATAPLANE names the JSON file to write (BENCH_QUICK=1 for
// short runs).
func TestBench(t *testing.T) {
	out := os.Getenv("BENCH_DATAPLANE")
	if out == "" {
		t.Skip("set BENCH_DATAPLANE=<file> to run the data-plane benchmark (make bench does)")
	}
	c := Config{Rate: 1000, Connections: 16, Fixed: 21 * time.Second, Max: 10 * time.Second, Rounds: 3}
	runs := 5
	if os.Getenv("BENCH_QUICK") == "1" {
		c.Fixed, c.Max, c.Rounds, runs = 4*time.Second, 3*time.Second, 2, 3
	}
	b := Setup(t)
	res := Result{Config: c}
	results, err := b.MeasureAll(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		p := r
		t.Logf("%s: http p50 %.3f ms p99 %.3f ms, max %.0f rps; grpc p50 %.3f ms p99 %.3f ms, max %.0f rps",
			p.Name, r.HTTPFixed.Latency.P50, r.HTTPFixed.Latency.P99, r.HTTPMax.Throughput,
			r.GRPCFixed.Latency.P50, r.GRPCFixed.Latency.P99, r.GRPCMax.Throughput)
		res.Paths = append(res.Paths, p)
	}
	s, err := b.MeasureStartup(t, runs)
	if err != nil {
		t.Fatal(err)
	}
	res.Startup = s
	data, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// The benchmark's numbers mean something only if the generators really
// send the requests they count, through the path they name: each sidecar
// must count exactly what the generator reports, and the direct path must
// have no sidecar at all.
func TestTheGeneratorsCountWhatTheSidecarsSaw(t *testing.T) {
	b := Setup(t)
	t.Run("the iptables-restore alternative installs the rules planeless init installs", func(t *testing.T) {
		var server *harness.Pod
		for _, p := range b.Paths {
			if p.Name == Planeless {
				server = p.Server
			}
		}
		argv, err := initCommand(t, server)
		if err != nil {
			t.Fatal(err)
		}
		restore, err := b.restoreScript(t.Context(), argv)
		if err != nil {
			t.Fatal(err)
		}
		viaInit := b.H.Plain(t, "rules-init", harness.PodOptions{})
		if out, err := viaInit.Exec(t.Context(), 0, argv...); err != nil {
			t.Fatalf("planeless init: %v\n%s", err, out)
		}
		viaRestore := b.H.Plain(t, "rules-restore", harness.PodOptions{})
		if out, err := viaRestore.Exec(t.Context(), 0, "sh", "-c", restore); err != nil {
			t.Fatalf("%s: %v\n%s", restore, err, out)
		}
		installed := viaInit.Rules(t)
		if !strings.Contains(installed, "-A PREROUTING") || !strings.Contains(installed, "-j PLANELESS_INBOUND") {
			t.Fatalf("planeless init installed no inbound rule:\n%s", installed)
		}
		if diff := cmp.Diff(installed, viaRestore.Rules(t)); diff != "" {
			t.Errorf("rules (-planeless init +iptables-restore):\n%s", diff)
		}
	})
	const rest, grpc = 200, 100
	for _, p := range b.Paths {
		t.Run(p.Name, func(t *testing.T) {
			ctx := t.Context()
			if p.Name == Direct {
				for _, pod := range []*harness.Pod{p.Client, p.Server} {
					if _, err := EnvoyPID(ctx, pod); err == nil {
						t.Errorf("an Envoy runs in %s: the direct path is not direct", pod.NS)
					}
				}
			}
			var before Counts
			if p.Name != Direct {
				var err error
				if before, err = b.Count(t, p); err != nil {
					t.Fatal(err)
				}
			}
			h, err := b.Benchload(ctx, p, "http", 400, 4, rest, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			g, err := b.Benchload(ctx, p, "grpc", 400, 4, grpc, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if h.Sent != rest || h.OK != rest || g.Sent != grpc || g.OK != grpc {
				t.Fatalf("generator: http sent %d ok %d (%s), grpc sent %d ok %d (%s); want %d and %d answered",
					h.Sent, h.OK, h.FirstError, g.Sent, g.OK, g.FirstError, rest, grpc)
			}
			if p.Name == Direct {
				return
			}
			after, err := b.Count(t, p)
			if err != nil {
				t.Fatal(err)
			}
			want := Counts{ClientOut: rest + grpc, ServerREST: rest, ServerGRPC: grpc}
			if got := after.Sub(before); got != want {
				t.Errorf("the sidecars counted %+v, the generator sent %+v", got, want)
			}

			const conns = 4
			w, err := b.Wrk(ctx, p, conns, 2*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			final, err := b.Count(t, p)
			if err != nil {
				t.Fatal(err)
			}
			// wrk does not count the requests in flight when it stops.
			seen := final.Sub(after).ServerREST
			if w.Requests == 0 || w.Non2xx != 0 || seen < float64(w.Requests) || seen > float64(w.Requests+conns) {
				t.Errorf("wrk counted %d requests (%d non-2xx), the server's sidecar %v", w.Requests, w.Non2xx, seen)
			}
		})
	}
}
