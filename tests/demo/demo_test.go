package main

import (
	"testing"
	"time"

	_ "github.com/planeless/planeless/tests/golden"
	"github.com/planeless/planeless/tests/need"
)

// TestDemoRunsToTheEnd keeps `make demo` from rotting: the whole demo,
// with a short burst of traffic, must finish without an error.
func TestDemoRunsToTheEnd(t *testing.T) {
	need.Root(t)
	need.Envoy(t)
	need.Command(t, "prometheus", "apt-get install prometheus")
	r := &runner{ctx: t.Context()}
	if code := r.run(func() { demo(r, 3*time.Second, false) }); code != 0 {
		t.Fatalf("the demo exited with %d", code)
	}
}
