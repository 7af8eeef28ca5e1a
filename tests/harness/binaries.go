package harness

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"

	"github.com/planeless/planeless/tests/need"
)

// The binaries are built once per test process into bin/ (readable by the
// app and proxy users, unlike t.TempDir()).
var (
	testappOnce sync.Once
	testappPath string
	testappErr  error

	planeless    = envBinary{env: "PLANELESS_BINARY", out: "planeless", pkg: "./cmd/planeless"}
	planelessPod = envBinary{env: "PLANELESS_POD_BINARY", out: "planeless-pod", pkg: "./cmd/planeless-pod"}
)

// An envBinary is $env (set by the Makefile after `make build`), or
// bin/out built from pkg when the tests run without make.
type envBinary struct {
	env, out, pkg string
	once          sync.Once
	path          string
	err           error
}

func (b *envBinary) get(t T) string {
	t.Helper()
	b.once.Do(func() {
		if p := os.Getenv(b.env); p != "" {
			if _, err := os.Stat(p); err == nil {
				b.path = p
				return
			}
		}
		b.path = filepath.Join(need.RepoRoot(), "bin", b.out)
		b.err = goBuild(b.path, b.pkg)
	})
	if b.err != nil {
		t.Fatalf("building %s: %v", b.out, b.err)
	}
	return b.path
}

// Testapp returns the test application binary (tests/apps/testapp), built
// on first use.
func Testapp(t T) string {
	t.Helper()
	testappOnce.Do(func() {
		testappPath = filepath.Join(need.RepoRoot(), "bin", "testapp")
		testappErr = goBuild(testappPath, "./tests/apps/testapp")
	})
	if testappErr != nil {
		t.Fatalf("building testapp: %v", testappErr)
	}
	return testappPath
}

// Planeless returns $PLANELESS_BINARY (set by the Makefile after `make
// build`), or builds bin/planeless when the tests run without make.
func Planeless(t T) string {
	t.Helper()
	return planeless.get(t)
}

// PlanelessPod returns $PLANELESS_POD_BINARY, or builds bin/planeless-pod:
// the injected init container's command.
func PlanelessPod(t T) string {
	t.Helper()
	return planelessPod.get(t)
}

// ForCommand returns the binary the harness runs for a container command
// (its first word): planeless or planeless-pod, or "" for anything else.
func ForCommand(t T, command string) string {
	t.Helper()
	switch filepath.Base(command) {
	case "planeless":
		return Planeless(t)
	case "planeless-pod":
		return PlanelessPod(t)
	}
	return ""
}

func goBuild(out, pkg string) error {
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = need.RepoRoot()
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w: %s", pkg, err, b)
	}
	return nil
}

// envoyFor returns an Envoy binary the given user can execute: the one
// need.Envoy found, or a copy in the harness folder when that one sits
// behind a folder the user cannot enter.
func (h *Harness) envoyFor(t T, uid, gid int64) string {
	t.Helper()
	path, err := filepath.EvalSymlinks(envoyBinary(t))
	if err != nil {
		t.Fatalf("resolving the Envoy binary: %v", err)
	}
	if _, err := run(context.Background(), "setpriv", credentials(uid, gid, "test", "-x", path)...); err == nil {
		return path
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	dst := filepath.Join(h.dir, "envoy")
	if _, err := os.Stat(dst); err == nil {
		return dst
	}
	if err := copyFile(path, dst); err != nil {
		t.Fatalf("copying Envoy for UID %d: %v", uid, err)
	}
	return dst
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// credentials is setpriv's argument list running cmd as uid:gid with no
// supplementary groups (what a container's runAsUser/runAsGroup gives).
func credentials(uid, gid int64, cmd ...string) []string {
	return append([]string{fmt.Sprintf("--reuid=%d", uid), fmt.Sprintf("--regid=%d", gid), "--clear-groups", "--"}, cmd...)
}
