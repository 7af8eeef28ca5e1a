package main

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/planeless/planeless/tests/harness"
	"github.com/planeless/planeless/tests/need"
	zipkinapi "github.com/planeless/planeless/tests/zipkin"
)

const (
	// zipkinEndpoint is the pods' planeless.dev/tracing-endpoint in
	// demo.yaml, as on a cluster with Zipkin in namespace observability.
	zipkinEndpoint = "zipkin.observability:9411"
	zipkinPort     = "9411"
)

// zipkin is the real Zipkin server (the jar `make zipkin` installs, run
// with the machine's java, in-memory storage) in a pod of its own, so the
// sidecars reach it by name and a killed run's sweep takes it too.
type zipkin struct {
	// Addr is Zipkin's host:port, URL its address (API and UI); both are
	// reachable from the host and from the pods.
	Addr, URL string

	cmd    *exec.Cmd
	exited chan struct{}
	log    string
}

// startZipkin starts Zipkin without waiting for it: wait does.
func startZipkin(r *runner, h *harness.Harness) *zipkin {
	jar := zipkinJar()
	if jar == "" {
		r.Fatalf("the Zipkin server jar is missing; install it with `make zipkin`")
	}
	java, err := exec.LookPath("java")
	if err != nil {
		r.Fatalf("java is missing; install it with `make system-deps` (apt-get install default-jre-headless)")
	}
	name, _, _ := strings.Cut(zipkinEndpoint, ":")
	pod := h.Plain(r, "zipkin", harness.PodOptions{Aliases: []string{name}})
	addr := net.JoinHostPort(pod.IP.String(), zipkinPort)
	z := &zipkin{
		Addr:   addr,
		URL:    "http://" + addr,
		exited: make(chan struct{}),
		log:    filepath.Join(h.Dir(), "zipkin.log"),
	}
	logFile, err := os.Create(z.log)
	if err != nil {
		r.Fatal(err)
	}
	defer logFile.Close()
	tmp := filepath.Join(h.Dir(), "zipkin-tmp") // removed with the harness
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		r.Fatal(err)
	}
	z.cmd = exec.Command("ip", "netns", "exec", pod.NS, java, "-Xmx256m", "-Djava.io.tmpdir="+tmp, "-jar", jar,
		"--armeria.ports[0].port="+zipkinPort, "--armeria.ports[0].protocols=http")
	z.cmd.Env = append(os.Environ(), "STORAGE_TYPE=mem")
	z.cmd.Stdout, z.cmd.Stderr = logFile, logFile
	if err := z.cmd.Start(); err != nil {
		r.Fatalf("starting zipkin: %v", err)
	}
	go func() { _ = z.cmd.Wait(); close(z.exited) }()
	// Registered after the pod's, so it runs before the harness removes
	// the namespace.
	r.Cleanup(func() {
		_ = z.cmd.Process.Kill()
		<-z.exited
	})
	return z
}

// addressIn writes a copy of manifest into dir in which the pods'
// tracing endpoint is Zipkin's address instead of its name, and returns
// its path. The name would resolve too (the zipkin pod has it), but the
// sidecars would resolve it as they start, and Envoy's resolver (c-ares)
// then keeps the hosts file it read for a minute: a sidecar would not find
// the pods started after it. On a cluster, DNS answers instead.
func (z *zipkin) addressIn(r *runner, manifest, dir string) string {
	data, err := os.ReadFile(manifest)
	if err != nil {
		r.Fatal(err)
	}
	if !strings.Contains(string(data), zipkinEndpoint) {
		r.Fatalf("%s does not name the collector %s", manifest, zipkinEndpoint)
	}
	out := filepath.Join(dir, filepath.Base(manifest))
	if err := os.WriteFile(out, []byte(strings.ReplaceAll(string(data), zipkinEndpoint, z.Addr)), 0o644); err != nil {
		r.Fatal(err)
	}
	return out
}

// zipkinJar is where `make zipkin` put the jar ($PLANELESS_ZIPKIN_JAR,
// else .tools/zipkin/zipkin-server.jar), or "".
func zipkinJar() string {
	for _, p := range []string{os.Getenv("PLANELESS_ZIPKIN_JAR"), filepath.Join(need.RepoRoot(), ".tools", "zipkin", "zipkin-server.jar")} {
		if _, err := os.Stat(p); p != "" && err == nil {
			return p
		}
	}
	return ""
}

// wait returns once Zipkin answers its health check.
func (z *zipkin) wait(r *runner) {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		select {
		case <-z.exited:
			r.Fatalf("zipkin exited before it was healthy:\n%s", tail(z.log, 4000))
		case <-r.ctx.Done():
			r.stop()
		default:
		}
		if resp, err := http.Get(z.URL + "/health"); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			r.Fatalf("zipkin not healthy at %s after 2 minutes:\n%s", z.URL, tail(z.log, 4000))
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// span is the part of a Zipkin v2 span the demo prints.
// span is a span as Zipkin's API returns it.
type span = zipkinapi.Span

// traces returns the most recent traces with a span of service.
func (z *zipkin) traces(service string) ([][]span, error) {
	return zipkinapi.Traces(z.URL, service, 200)
}

func tail(path string, n int) string {
	data, _ := os.ReadFile(path)
	if len(data) > n {
		data = data[len(data)-n:]
	}
	return string(data)
}
