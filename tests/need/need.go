// Package need finds the real parts tests run against (Envoy, iptables,
// kube-apiserver, helm, Prometheus, root) and stops a test that lacks one:
// with CI=true it fails, elsewhere it skips loudly, naming the command that
// installs the missing part.
package need

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// CI reports whether the tests run in CI, where nothing may be skipped.
func CI() bool { return os.Getenv("CI") == "true" }

// missing stops the test: fatal in CI, a loud skip elsewhere.
func missing(t testing.TB, what, install string) {
	t.Helper()
	if CI() {
		t.Fatalf("%s is required with CI=true; install it with `%s`", what, install)
	}
	t.Skipf("SKIPPED: %s is missing; install it with `%s`", what, install)
}

// Root stops the test unless it runs as root (network namespaces, iptables).
func Root(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		missing(t, "root", "sudo make test")
	}
}

// RepoRoot returns the repository's top folder.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Tool returns the path of a tool installed by `make tools` under .tools/,
// or found through the environment variable env.
func Tool(t testing.TB, env, rel, install string) string {
	t.Helper()
	if p := os.Getenv(env); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	p := filepath.Join(RepoRoot(), ".tools", rel)
	if _, err := os.Stat(p); err == nil {
		return p
	}
	missing(t, rel+" ($"+env+")", install)
	return ""
}

// Command returns the path of a command on PATH.
func Command(t testing.TB, name, install string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		missing(t, name, install)
	}
	return p
}

// Envoy returns the Envoy binary installed by `make envoy`.
func Envoy(t testing.TB) string {
	t.Helper()
	return Tool(t, "PLANELESS_ENVOY", "bin/envoy", "make envoy")
}
