package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/planeless/planeless/tests/need"
)

func TestUninjectGivesBackWhatInjectRead(t *testing.T) {
	corpus, err := os.ReadFile(filepath.Join(need.RepoRoot(), "tests", "corpus", "emojivoto.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	injected, _, err := run(t, string(corpus), "inject", "-f", "-")
	if err != nil {
		t.Fatal(err)
	}
	back, stderr, err := run(t, injected, "uninject", "-f", "-")
	if err != nil {
		t.Fatalf("uninject: %v (%s)", err, stderr)
	}
	if back != string(corpus) {
		t.Error("inject | uninject did not give back the corpus byte for byte")
	}
	if stderr != "" {
		t.Errorf("uninject printed %q", stderr)
	}
}

func TestUninjectSaysWhenNothingWasInjected(t *testing.T) {
	out, stderr, err := run(t, deployment, "uninject", "-f", "-")
	if err != nil {
		t.Fatal(err)
	}
	if out != deployment {
		t.Error("a manifest without planeless changed")
	}
	if !strings.Contains(stderr, "no object in the input was injected by planeless") {
		t.Errorf("stderr = %q", stderr)
	}
}

func TestUninjectRefusesAndWritesNothing(t *testing.T) {
	hand := strings.Replace(deployment, "      - name: web\n", "      - name: planeless-proxy\n        image: envoy\n      - name: web\n", 1)
	out, _, err := run(t, hand, "uninject", "-f", "-")
	if err == nil || !strings.Contains(err.Error(), "Deployment web: has container planeless-proxy but no planeless.dev/status annotation") {
		t.Fatalf("error = %v", err)
	}
	if out != "" {
		t.Errorf("wrote %q despite the error", out)
	}
}
