package dataplane

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/planeless/planeless/tests/harness"
	"github.com/planeless/planeless/tests/zipkin"
)

// TestTracesJoinAcrossPods injects a client and a server annotated with
// planeless.dev/tracing: zipkin, runs them in their network namespaces with
// a real Zipkin on the host's bridge address, and sends one request from
// the client app to the server. Zipkin must hold one trace with the client
// sidecar's CLIENT span and the server sidecar's SERVER span, its child,
// and the server app must have received the trace headers.
func TestTracesJoinAcrossPods(t *testing.T) {
	t.Parallel()
	h := harness.New(t)
	z := zipkin.Start(t, h.Gateway().String())

	manifest, err := os.ReadFile(filepath.Join("testdata", "traced.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "traced.yaml")
	if err := os.WriteFile(file, []byte(strings.ReplaceAll(string(manifest), "ZIPKIN_ENDPOINT", z.Addr)), 0o644); err != nil {
		t.Fatal(err)
	}
	pods := map[string]*harness.Pod{}
	for _, p := range harness.Inject(t, file) {
		pods[p.Name] = h.Start(t, p, harness.PodOptions{
			Apps:    map[string][]string{"web": {"rest", "-listen", ":8080", "-name", p.Name}},
			Aliases: []string{p.Name + ".shop"},
		})
	}

	r := pods["client"].Get(t, "http://server.shop:8080/books?isbn=42")
	if r.Status != 200 {
		t.Fatalf("status %d %s", r.Status, r.Error)
	}
	for _, header := range []string{"X-B3-Traceid", "X-B3-Spanid", "X-B3-Parentspanid", "X-B3-Sampled", "Traceparent", "X-Request-Id"} {
		if !strings.Contains(r.Body, `"`+header+`"`) {
			t.Errorf("the server app did not receive %s: %s", header, r.Body)
		}
	}

	trace := z.WaitForTrace(t, "client.shop", func(spans []zipkin.Span) bool {
		return span(spans, "client.shop", "CLIENT") != nil && span(spans, "server.shop", "SERVER") != nil
	})
	c, s := span(trace, "client.shop", "CLIENT"), span(trace, "server.shop", "SERVER")
	if s.TraceID != c.TraceID || s.ParentID != c.ID {
		t.Errorf("server span (trace %s, parent %s) is not the child of the client span (trace %s, id %s)", s.TraceID, s.ParentID, c.TraceID, c.ID)
	}
	if got := c.Tags["http.url"]; got != "http://server.shop:8080/books?isbn=42" {
		t.Errorf("client span http.url = %q", got)
	}
}

func span(spans []zipkin.Span, service, kind string) *zipkin.Span {
	for i, s := range spans {
		if s.LocalEndpoint.ServiceName == service && s.Kind == kind {
			return &spans[i]
		}
	}
	return nil
}
