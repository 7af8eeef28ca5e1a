package main

import (
	"bytes"
	"fmt"
	"os"
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

// init installs the rules and leaves its copy for the proxy's hooks (the
// two run at once): both must be done when it returns, and a copy that
// fails fails init, naming where it was going.
func TestInitInstallsTheRulesAndLeavesItsCopy(t *testing.T) {
	need.Root(t)
	ip := need.Command(t, "ip", "apt-get install iproute2")
	goCmd := need.Command(t, "go", "install Go")
	dir := t.TempDir()
	bin := filepath.Join(dir, "planeless-pod")
	build := exec.CommandContext(t.Context(), goCmd, "build", "-o", bin, "./cmd/planeless-pod")
	build.Dir = need.RepoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building planeless-pod: %v\n%s", err, out)
	}
	ns := fmt.Sprintf("plpod%d", os.Getpid())
	if out, err := exec.Command(ip, "netns", "add", ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command(ip, "netns", "delete", ns).Run() })
	initArgs := func(copyTo string) []string {
		return []string{"netns", "exec", ns, bin, "init", "--proxy-uid=1337", "--proxy-gid=1337",
			"--inbound-proxy-port=15006", "--outbound-proxy-port=15001", "--proxy-ports=15001,15006,15090",
			"--inbound-ports=8080", "--ipv6=false", "--copy-to=" + copyTo}
	}

	copyTo := filepath.Join(dir, "bin", "planeless")
	if err := os.Mkdir(filepath.Dir(copyTo), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.CommandContext(t.Context(), ip, initArgs(copyTo)...).CombinedOutput(); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	save, err := exec.CommandContext(t.Context(), ip, "netns", "exec", ns, "iptables-save", "-t", "nat").CombinedOutput()
	if err != nil || !strings.Contains(string(save), "--to-ports 15006") {
		t.Errorf("after init the nat table has no redirection to 15006 (%v):\n%s", err, save)
	}
	want, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(copyTo)
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("the copy at %s is not the binary (%d bytes, want %d): %v", copyTo, len(got), len(want), err)
	}
	if fi, err := os.Stat(copyTo); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("the copy's mode: %v, %v; want 0755", fi.Mode(), err)
	}

	missing := filepath.Join(dir, "nowhere", "planeless")
	out, err := exec.CommandContext(t.Context(), ip, initArgs(missing)...).CombinedOutput()
	if err == nil || !strings.Contains(string(out), missing) {
		t.Errorf("init copying to a missing folder = %v, %q; want an error naming %s", err, out, missing)
	}
}
