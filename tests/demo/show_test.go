package main

import (
	"os"
	"regexp"
	"testing"

	"github.com/planeless/planeless/inject"
)

// The demo shows the bootstrap's real size (it is compact JSON on one line:
// counting lines said 0) and what it holds.
func TestBootstrapSummaryShowsTheRealSize(t *testing.T) {
	f, err := os.Open("demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	obj, err := inject.FirstPodBearing(f)
	if err != nil {
		t.Fatal(err)
	}
	config, _, err := inject.New().Bootstrap(obj, "")
	if err != nil {
		t.Fatal(err)
	}
	got := bootstrapSummary(string(config))
	if !regexp.MustCompile(`^<[1-9][0-9]*\.[0-9] KiB of Envoy bootstrap \(compact JSON\): [1-9] listeners, [1-9][0-9]* clusters, rendered from this pod`).MatchString(got) {
		t.Errorf("summary %q does not give the bootstrap's size and contents", got)
	}
}
