package dataplane

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/planeless/planeless/bench/envoyquickly"
	"github.com/planeless/planeless/tests/apps/echo"
	"github.com/planeless/planeless/tests/harness"
	"github.com/planeless/planeless/tests/need"
)

// Path names.
const (
	Direct       = "direct"
	Planeless    = "planeless"
	EnvoyQuickly = "envoy-quickly"
	// PlanelessNoLog is planeless with planeless.dev/access-log: "off",
	// which isolates the cost of the per-request access log.
	PlanelessNoLog = "planeless-no-access-log"
)

// Path is one way from the client's app to the server's app.
type Path struct {
	Name   string
	Client *harness.Pod
	Server *harness.Pod
	// URL (HTTP/1.1) and Target (gRPC) name the server as the client's app
	// calls it.
	URL, Target string
}

// Bench holds the harness, the three paths and the tools run in pods.
type Bench struct {
	H            *harness.Harness
	Paths        []*Path
	BenchloadBin string
	WrkScript    string
	Envoy        string
}

// appArgs serve REST and gRPC on one port, the emojivoto shape.
func appArgs(name string) []string {
	return []string{"rest", "-grpc", "-listen", ":8080", "-name", name}
}

// Setup starts the pods of every path.
func Setup(t testing.TB) *Bench {
	t.Helper()
	injected := map[string]*corev1.Pod{}
	for _, p := range harness.Inject(t, filepath.Join(need.RepoRoot(), "bench", "dataplane", "testdata", "pods.yaml")) {
		injected[p.Name] = p
	}
	b := &Bench{H: harness.New(t)}
	b.BenchloadBin = build(t, b.H.Dir(), "./bench/cmd/benchload")
	b.WrkScript = filepath.Join(b.H.Dir(), "post.lua")
	if err := os.WriteFile(b.WrkScript, []byte(wrkScript), 0o644); err != nil {
		t.Fatal(err)
	}
	b.Envoy = envoyCopy(t, b.H.Dir())

	direct := &Path{Name: Direct, URL: "http://d-server:8080/", Target: "d-server:8080"}
	direct.Server = b.H.Plain(t, "d-server", harness.PodOptions{Apps: map[string][]string{"web": appArgs("d-server")}})
	direct.Client = b.H.Plain(t, "d-client", harness.PodOptions{})

	pl := &Path{Name: Planeless, URL: "http://p-server:8080/", Target: "p-server:8080"}
	pl.Server = b.H.Start(t, injected["p-server"], harness.PodOptions{Apps: map[string][]string{"web": appArgs("p-server")}})
	pl.Client = b.H.Start(t, injected["p-client"], harness.PodOptions{Apps: map[string][]string{"web": {"rest", "-listen", ":8081"}}})

	nl := &Path{Name: PlanelessNoLog, URL: "http://n-server:8080/", Target: "n-server:8080"}
	nl.Server = b.H.Start(t, injected["n-server"], harness.PodOptions{Apps: map[string][]string{"web": appArgs("n-server")}})
	nl.Client = b.H.Start(t, injected["n-client"], harness.PodOptions{Apps: map[string][]string{"web": {"rest", "-listen", ":8081"}}})

	eq := &Path{Name: EnvoyQuickly, URL: "http://q-server:8080/", Target: "q-server:8080"}
	eq.Server = b.H.Plain(t, "q-server", harness.PodOptions{Apps: map[string][]string{"web": appArgs("q-server")}})
	eq.Client = b.H.Plain(t, "q-client", harness.PodOptions{})
	for _, p := range []*harness.Pod{eq.Server, eq.Client} {
		b.startEnvoyQuickly(t, p)
	}
	b.Paths = []*Path{direct, pl, nl, eq}
	return b
}

// startEnvoyQuickly does what envoy-quickly's pod spec does: its
// proxy-init script as root, then Envoy with its configuration as UID
// 1337. Envoy gets the flags planeless gives its own Envoy where they do
// not depend on the configuration (worker threads, log level, no hot
// restart), so that the two differ only in configuration.
func (b *Bench) startEnvoyQuickly(t testing.TB, p *harness.Pod) {
	t.Helper()
	ctx := t.Context()
	if out, err := p.Exec(ctx, 0, "sh", "-c", envoyquickly.Rules); err != nil {
		t.Fatalf("pod %s: envoy-quickly rules: %v\n%s", p.Name, err, out)
	}
	config := filepath.Join(b.H.Dir(), p.Name+"-envoy.yaml")
	if err := os.WriteFile(config, []byte(envoyquickly.Config), 0o644); err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(b.H.Dir(), p.Name+"-envoy.log")
	// Envoy runs as UID 1337, which cannot create files in the folder.
	if err := os.WriteFile(logFile, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(logFile, 0o666); err != nil {
		t.Fatal(err)
	}
	argv := append([]string{b.Envoy, "-c", config}, EnvoyFlags...)
	cmd := exec.Command("ip", append([]string{"netns", "exec", p.NS, "setpriv",
		"--reuid=1337", "--regid=1337", "--clear-groups", "--", "sh", "-c", `exec "$@" >>` + logFile + ` 2>&1`, "envoy"}, argv...)...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("pod %s: starting envoy-quickly's envoy: %v", p.Name, err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(30 * time.Second)
	admin := fmt.Sprintf("http://127.0.0.1:%d/ready", envoyquickly.AdminPort)
	for {
		out, err := p.Exec(ctx, 0, "testapp", "get", admin)
		var resp echo.Response
		if err == nil && json.Unmarshal([]byte(out), &resp) == nil && resp.Status == 200 {
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logFile)
			t.Fatalf("pod %s: envoy-quickly's envoy not ready: %v %s\n%s", p.Name, err, out, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// EnvoyFlags are the flags of planeless's Envoy that do not depend on its
// configuration (see inject's proxy container): the envoy-quickly path and
// the start-up measurement use them too.
var EnvoyFlags = []string{"--concurrency", "2", "--log-level", "warning", "--disable-hot-restart"}

// EnvoyPID finds the Envoy process in pod's network namespace.
func EnvoyPID(ctx context.Context, p *harness.Pod) (int, error) {
	out, err := exec.CommandContext(ctx, "ip", "netns", "pids", p.NS).Output()
	if err != nil {
		return 0, fmt.Errorf("listing processes of %s: %w", p.NS, err)
	}
	for f := range strings.FieldsSeq(string(out)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			continue
		}
		if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); strings.TrimSpace(string(comm)) == "envoy" {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("no envoy runs in %s", p.NS)
}

const wrkScript = `wrk.method = "POST"
wrk.body = string.rep("x", 1024)
wrk.headers["Content-Type"] = "text/plain"
`

func build(t testing.TB, dir, pkg string) string {
	t.Helper()
	out := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = need.RepoRoot()
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

// envoyCopy puts the Envoy binary where UID 1337 can run it.
func envoyCopy(t testing.TB, dir string) string {
	t.Helper()
	src, err := filepath.EvalSymlinks(need.Envoy(t))
	if err != nil {
		t.Fatal(err)
	}
	// Named envoy, so that its process is called envoy.
	if err := os.Mkdir(filepath.Join(dir, "bench-envoy"), 0o755); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "bench-envoy", "envoy")
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return dst
}
