// Package zipkin runs the real Zipkin server (the exec jar `make zipkin`
// installs, with the machine's java) for tests that prove Envoy's spans
// arrive, and reads traces back through Zipkin's v2 API.
package zipkin

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/planeless/planeless/tests/need"
)

// Server is a running Zipkin.
type Server struct {
	// Addr is host:port of Zipkin's HTTP port (API and span intake).
	Addr string
}

// Span is the part of a Zipkin v2 span the tests look at.
type Span struct {
	TraceID       string            `json:"traceId"`
	ID            string            `json:"id"`
	ParentID      string            `json:"parentId"`
	Kind          string            `json:"kind"`
	Name          string            `json:"name"`
	Shared        bool              `json:"shared"`
	Timestamp     int64             `json:"timestamp"` // µs since the epoch
	Duration      int64             `json:"duration"`  // µs
	Tags          map[string]string `json:"tags"`
	LocalEndpoint struct {
		ServiceName string `json:"serviceName"`
	} `json:"localEndpoint"`
}

// Start runs Zipkin (in-memory storage) on host, a free port, and waits
// until it is healthy. It is stopped when the test ends.
func Start(t testing.TB, host string) *Server {
	t.Helper()
	jar := need.Tool(t, "PLANELESS_ZIPKIN_JAR", filepath.Join("zipkin", "zipkin-server.jar"), "make zipkin")
	java := need.Command(t, "java", "apt-get install default-jre-headless")
	port := freePort(t, host)
	addr := net.JoinHostPort(host, strconv.Itoa(port))

	var out lockedBuffer
	cmd := exec.Command(java, "-Xmx256m", "-jar", jar,
		"--armeria.ports[0].ip="+host, "--armeria.ports[0].port="+strconv.Itoa(port), "--armeria.ports[0].protocols=http")
	cmd.Env = append(os.Environ(), "STORAGE_TYPE=mem")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting zipkin: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("zipkin output:\n%s", out.tail(4000))
		}
	})

	deadline := time.Now().Add(90 * time.Second)
	for {
		select {
		case <-exited:
			t.Fatalf("zipkin exited before it was healthy:\n%s", out.tail(4000))
		default:
		}
		if resp, err := http.Get("http://" + addr + "/health"); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return &Server{Addr: addr}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("zipkin not healthy on %s after 90s:\n%s", addr, out.tail(4000))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Traces returns the traces Zipkin holds with a span of serviceName.
func (s *Server) Traces(serviceName string) ([][]Span, error) {
	return Traces("http://"+s.Addr, serviceName, 100)
}

// Traces asks the Zipkin at baseURL for the latest traces, at most limit,
// with a span of serviceName.
func Traces(baseURL, serviceName string, limit int) ([][]Span, error) {
	q := url.Values{"serviceName": {serviceName}, "limit": {strconv.Itoa(limit)}, "lookback": {"3600000"}}
	resp, err := http.Get(baseURL + "/api/v2/traces?" + q.Encode())
	if err != nil {
		return nil, fmt.Errorf("querying zipkin: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("reading zipkin's answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("zipkin answered %d: %s", resp.StatusCode, body)
	}
	var traces [][]Span
	if err := json.Unmarshal(body, &traces); err != nil {
		return nil, fmt.Errorf("decoding zipkin's traces: %w", err)
	}
	return traces, nil
}

// WaitForTrace polls Zipkin until a trace with a span of serviceName
// satisfies ok, and returns it. Envoy flushes spans every few seconds.
func (s *Server) WaitForTrace(t testing.TB, serviceName string, ok func([]Span) bool) []Span {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	var last [][]Span
	for {
		traces, err := s.Traces(serviceName)
		if err != nil {
			t.Fatal(err)
		}
		for _, tr := range traces {
			if ok(tr) {
				return tr
			}
		}
		last = traces
		if time.Now().After(deadline) {
			t.Fatalf("no matching trace for %s in zipkin after 45s; traces: %+v", serviceName, last)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func freePort(t testing.TB, host string) int {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *lockedBuffer) tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.buf) > n {
		return string(b.buf[len(b.buf)-n:])
	}
	return string(b.buf)
}
