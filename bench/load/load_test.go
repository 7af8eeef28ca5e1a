package load_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/planeless/planeless/bench/load"
	_ "github.com/planeless/planeless/tests/golden"
)

// The generator's counts are the numbers every report is built on: they
// must be exactly the calls made, split into answered and failed.
func TestRunCountsEveryCallItMakes(t *testing.T) {
	tests := map[string]struct {
		opts      load.Options
		failEvery int64
		wantSent  int
	}{
		"closed-loop stops after the requested count":            {opts: load.Options{Concurrency: 8, Requests: 1000}, wantSent: 1000},
		"open-loop at a fixed rate stops after the count":        {opts: load.Options{Rate: 2000, Concurrency: 4, Requests: 200}, wantSent: 200},
		"failures are counted apart from answers":                {opts: load.Options{Concurrency: 3, Requests: 300}, failEvery: 3, wantSent: 300},
		"a single worker sends one request at a time to the end": {opts: load.Options{Concurrency: 1, Requests: 50}, wantSent: 50},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var calls, failed atomic.Int64
			r := load.Run(t.Context(), tc.opts, func(context.Context) error {
				n := calls.Add(1)
				if tc.failEvery > 0 && n%tc.failEvery == 0 {
					failed.Add(1)
					return errors.New("refused")
				}
				return nil
			})
			if int(calls.Load()) != tc.wantSent || r.Sent != tc.wantSent {
				t.Errorf("made %d calls, reported %d sent; want %d", calls.Load(), r.Sent, tc.wantSent)
			}
			if r.Errors != int(failed.Load()) || r.OK != r.Sent-r.Errors {
				t.Errorf("reported %d ok and %d errors; %d calls failed", r.OK, r.Errors, failed.Load())
			}
			if r.Errors > 0 && r.FirstError != "refused" {
				t.Errorf("first error %q, want %q", r.FirstError, "refused")
			}
		})
	}
}

// A fixed rate is a rate: 200 requests at 1,000/s take about 0.2 s, and a
// slow server's queue shows in the latency (measured from when each request
// was due), not as a lower rate.
func TestOpenLoopKeepsTheRateAndChargesQueueingToLatency(t *testing.T) {
	r := load.Run(t.Context(), load.Options{Rate: 1000, Concurrency: 1, Requests: 200}, func(context.Context) error {
		time.Sleep(2 * time.Millisecond) // twice the interval: a queue builds up
		return nil
	})
	if r.OK != 200 {
		t.Fatalf("ok %d, want 200", r.OK)
	}
	// One worker at 2 ms per request needs 0.4 s; the last request was due
	// at 0.2 s, so it waited about 0.2 s.
	if r.Latency.Max < 100 {
		t.Errorf("max latency %.1f ms: the queue behind a slow server was not charged", r.Latency.Max)
	}
}

// A request that says its answer is in stops its clock there: what it does
// after (checking the answer) is not its latency, but its error still
// counts.
func TestAnsweredEndsTheLatency(t *testing.T) {
	calls := 0
	r := load.Run(t.Context(), load.Options{Concurrency: 1, Requests: 10}, func(ctx context.Context) error {
		calls++
		load.Answered(ctx)
		time.Sleep(20 * time.Millisecond)
		if calls == 10 {
			return errors.New("the last answer is wrong")
		}
		return nil
	})
	if r.OK != 9 || r.Errors != 1 {
		t.Fatalf("ok %d, errors %d; want 9 and 1", r.OK, r.Errors)
	}
	if r.Latency.Max >= 20 {
		t.Errorf("max latency %.1f ms counts the 20 ms after the answer", r.Latency.Max)
	}
	slow := load.Run(t.Context(), load.Options{Concurrency: 1, Requests: 3}, func(ctx context.Context) error {
		time.Sleep(20 * time.Millisecond)
		return nil
	})
	if slow.Latency.P50 < 20 {
		t.Errorf("without Answered, p50 %.1f ms; want the whole 20 ms call", slow.Latency.P50)
	}
}
