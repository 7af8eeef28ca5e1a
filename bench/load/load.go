package load

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Options say how hard and how long to drive.
type Options struct {
	// Rate is the total requests per second, open-loop; 0 means
	// closed-loop: Concurrency workers, each sending its next request when
	// the last one is answered.
	Rate float64
	// Concurrency is the number of workers (requests in flight at most).
	Concurrency int
	// Requests stops after this many requests; 0 leaves it to Duration.
	Requests int
	// Duration stops after this long (when Requests is 0).
	Duration time.Duration
}

// Result is what one run saw. Latencies are in milliseconds.
type Result struct {
	Rate        float64 `json:"target_rps,omitempty"`
	Concurrency int     `json:"concurrency"`
	Sent        int     `json:"sent"`
	OK          int     `json:"ok"`
	Errors      int     `json:"errors"`
	FirstError  string  `json:"first_error,omitempty"`
	Seconds     float64 `json:"seconds"`
	// Throughput is successful requests per second.
	Throughput float64 `json:"throughput_rps"`
	Latency    Latency `json:"latency_ms"`
}

// Latency percentiles of the successful requests, in milliseconds.
type Latency struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// Do sends one request; a non-nil error counts it as failed. Its latency
// ends when it returns, or when it calls Answered.
type Do func(ctx context.Context) error

type answeredKey struct{}

// Answered says, from inside a Do, that the whole answer is in: the
// request's latency ends here, and what the Do does after (decoding and
// checking the answer, the generator's own work) is not counted in it. An
// error returned after still counts the request as failed.
func Answered(ctx context.Context) {
	if t, ok := ctx.Value(answeredKey{}).(*time.Time); ok {
		*t = time.Now()
	}
}

// Run drives do as o says and returns what it saw.
func Run(ctx context.Context, o Options, do Do) Result {
	if o.Concurrency < 1 {
		o.Concurrency = 1
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if o.Requests == 0 {
		var stop context.CancelFunc
		ctx, stop = context.WithTimeout(ctx, o.Duration)
		defer stop()
	}

	jobs := make(chan time.Time, 1<<16)
	workers := make([]worker, o.Concurrency)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range workers {
		wg.Go(func() { workers[i].run(ctx, jobs, do) })
	}
	if o.Rate > 0 {
		schedule(ctx, o, start, jobs)
	} else {
		feed(ctx, o, jobs)
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)

	r := Result{Rate: o.Rate, Concurrency: o.Concurrency, Seconds: elapsed.Seconds()}
	var all []time.Duration
	for _, w := range workers {
		r.Sent += w.sent
		r.Errors += w.errors
		if r.FirstError == "" && w.firstError != nil {
			r.FirstError = w.firstError.Error()
		}
		all = append(all, w.latencies...)
	}
	r.OK = len(all)
	r.Throughput = float64(r.OK) / elapsed.Seconds()
	r.Latency = percentiles(all)
	return r
}

// schedule hands out one due time every 1/Rate, open-loop.
func schedule(ctx context.Context, o Options, start time.Time, jobs chan<- time.Time) {
	interval := time.Duration(float64(time.Second) / o.Rate)
	for i := 0; o.Requests == 0 || i < o.Requests; i++ {
		due := start.Add(time.Duration(i) * interval)
		if wait := time.Until(due); wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		}
		select {
		case <-ctx.Done():
			return
		case jobs <- due:
		}
	}
}

// feed keeps every worker busy, closed-loop: a request is due when a worker
// takes it.
func feed(ctx context.Context, o Options, jobs chan<- time.Time) {
	for i := 0; o.Requests == 0 || i < o.Requests; i++ {
		select {
		case <-ctx.Done():
			return
		case jobs <- time.Time{}:
		}
	}
}

type worker struct {
	sent, errors int
	firstError   error
	latencies    []time.Duration
}

func (w *worker) run(ctx context.Context, jobs <-chan time.Time, do Do) {
	for due := range jobs {
		if ctx.Err() != nil {
			return
		}
		start := time.Now()
		if !due.IsZero() {
			start = due
		}
		w.sent++
		var answered time.Time
		if err := do(context.WithValue(context.WithoutCancel(ctx), answeredKey{}, &answered)); err != nil {
			w.errors++
			if w.firstError == nil {
				w.firstError = err
			}
			continue
		}
		if answered.IsZero() {
			answered = time.Now()
		}
		w.latencies = append(w.latencies, answered.Sub(start))
	}
}

func percentiles(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	slices.Sort(ds)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	at := func(q float64) float64 {
		i := int(q*float64(len(ds))+0.5) - 1
		return ms(ds[max(0, min(i, len(ds)-1))])
	}
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return Latency{
		P50: at(0.50), P90: at(0.90), P99: at(0.99),
		Max:  ms(ds[len(ds)-1]),
		Mean: ms(sum / time.Duration(len(ds))),
	}
}
