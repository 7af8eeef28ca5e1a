package harness

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/planeless/planeless/tests/need"
)

// T is what the harness needs from its caller. Every *testing.T satisfies
// it, and so does a program that runs pods outside `go test` (make demo).
type T interface {
	Helper()
	Context() context.Context
	Cleanup(func())
	Logf(format string, args ...any)
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Fatal(args ...any)
	Failed() bool
}

// requireRoot stops a test that is not root the way tests/need does (a
// skip, or a failure with CI=true), and stops a program outright.
func requireRoot(t T) {
	t.Helper()
	if tb, ok := t.(testing.TB); ok {
		need.Root(tb)
		return
	}
	if os.Geteuid() != 0 {
		t.Fatalf("root is required (network namespaces, iptables): run it with sudo")
	}
}

func requireCommand(t T, name, install string) string {
	t.Helper()
	if tb, ok := t.(testing.TB); ok {
		return need.Command(tb, name, install)
	}
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is missing; install it with `%s`", name, install)
	}
	return p
}

func envoyBinary(t T) string {
	t.Helper()
	if tb, ok := t.(testing.TB); ok {
		return need.Envoy(tb)
	}
	for _, p := range []string{os.Getenv("PLANELESS_ENVOY"), filepath.Join(need.RepoRoot(), ".tools", "bin", "envoy")} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatalf("Envoy is missing; install it with `make envoy`")
	return ""
}
