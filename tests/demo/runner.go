package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
)

// runner lets the harness, written for tests, run in a program: it
// satisfies harness.T. Fatalf unwinds to run(), which runs the cleanups.
type runner struct {
	ctx context.Context
	// out receives the demo's report; color makes its headings bold.
	out      io.Writer
	color    bool
	mu       sync.Mutex
	cleanups []func()
	failed   bool
}

type fatal struct{}

func (r *runner) Helper()                  {}
func (r *runner) Context() context.Context { return r.ctx }

// Failed is false after an interruption: the harness then cleans up
// without dumping every log.
func (r *runner) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed && r.ctx.Err() == nil
}

// stop unwinds to run() without an error message (the user interrupted).
func (r *runner) stop() { panic(fatal{}) }

func (r *runner) Cleanup(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cleanups = append(r.cleanups, f)
}

func (r *runner) Logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
}

func (r *runner) Errorf(format string, args ...any) {
	r.mu.Lock()
	r.failed = true
	r.mu.Unlock()
	r.Logf("error: "+format, args...)
}

func (r *runner) Fatalf(format string, args ...any) {
	if r.ctx.Err() != nil {
		r.stop() // an interruption, not a failure
	}
	r.Errorf(format, args...)
	panic(fatal{})
}

func (r *runner) Fatal(args ...any) { r.Fatalf("%s", fmt.Sprint(args...)) }

// run calls f and then every cleanup, last registered first, whether f
// returns, fails or is interrupted.
func (r *runner) run(f func()) (code int) {
	defer func() {
		v := recover()
		r.mu.Lock()
		cleanups := r.cleanups
		r.cleanups = nil
		r.mu.Unlock()
		fmt.Fprintln(os.Stderr, "\ncleaning up: processes, network namespaces, /etc/netns, bridge ...")
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
		switch {
		case r.ctx.Err() != nil:
			fmt.Fprintln(os.Stderr, "interrupted; everything the demo created is gone")
			code = 130
		case v == nil:
		case v == fatal{}:
			code = 1
		default:
			panic(v)
		}
	}()
	f()
	return 0
}

func (r *runner) printf(format string, args ...any) { fmt.Fprintf(r.out, format, args...) }
func (r *runner) println(args ...any)               { fmt.Fprintln(r.out, args...) }
func (r *runner) print(args ...any)                 { fmt.Fprint(r.out, args...) }

// bold is s in bold on a terminal.
func (r *runner) bold(s string) string {
	if !r.color {
		return s
	}
	return "\033[1m" + s + "\033[0m"
}

// step prints the heading of one step of the demo.
func (r *runner) step(s string) { r.printf("\n%s\n", r.bold("== "+s)) }
