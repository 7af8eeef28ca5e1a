package inject_test

import (
	"testing"

	"github.com/planeless/planeless/bench/workload"
	"github.com/planeless/planeless/tests/need"
)

// BenchmarkAdmission measures the mutate path (Patch on raw JSON) for a
// typical and a large pod, and the render step alone for them and for 1, 10
// and 100 intercepted ports. `make bench` runs the same cases.
func BenchmarkAdmission(b *testing.B) {
	cases, err := workload.Cases(need.RepoRoot())
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range cases {
		b.Run(c.Name, c.Run)
	}
}
