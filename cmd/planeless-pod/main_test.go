package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/planeless/planeless/tests/need"
)

// The point of planeless-pod is its start-up: none of the webhook's heavy
// dependencies may creep in (their package initialisation is what made
// `planeless init` slow).
func TestPodBinaryStaysSmall(t *testing.T) {
	goCmd := need.Command(t, "go", "install Go")
	cmd := exec.CommandContext(t.Context(), goCmd, "list", "-deps", "./cmd/planeless-pod")
	cmd.Dir = need.RepoRoot()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, heavy := range []string{
		"k8s.io/client-go/",
		"sigs.k8s.io/controller-runtime/",
		"github.com/envoyproxy/go-control-plane/",
		"google.golang.org/grpc",
		"github.com/prometheus/client_golang/",
		"github.com/planeless/planeless/bootstrap",
		"github.com/planeless/planeless/webhook",
	} {
		for pkg := range strings.Lines(string(out)) {
			if strings.HasPrefix(pkg, heavy) {
				t.Errorf("planeless-pod depends on %s", strings.TrimSpace(pkg))
				break
			}
		}
	}
}

// planeless-pod has the three commands a pod runs, and only those: init
// (the init container), wait and drain (the proxy's hooks run them from
// the copy init leaves).
func TestPodBinaryHasThePodsCommands(t *testing.T) {
	goCmd := need.Command(t, "go", "install Go")
	bin := filepath.Join(t.TempDir(), "planeless-pod")
	build := exec.CommandContext(t.Context(), goCmd, "build", "-o", bin, "./cmd/planeless-pod")
	build.Dir = need.RepoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building planeless-pod: %v\n%s", err, out)
	}
	for _, c := range []string{"init", "wait", "drain"} {
		if out, err := exec.CommandContext(t.Context(), bin, c, "--help").CombinedOutput(); err != nil {
			t.Errorf("planeless-pod %s --help: %v\n%s", c, err, out)
		}
	}
	out, err := exec.CommandContext(t.Context(), bin, "webhook").CombinedOutput()
	if err == nil || !strings.Contains(string(out), `unknown command "webhook"`) {
		t.Errorf("planeless-pod webhook = %v, %q; want an unknown command", err, out)
	}
}
