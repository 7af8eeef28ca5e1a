package dataplane

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/planeless/planeless/bootstrap"
	"github.com/planeless/planeless/proxy"
	"github.com/planeless/planeless/tests/harness"
	"github.com/planeless/planeless/tests/zipkin"
)

// TestTracesJoinAcrossPods injects a client and a server annotated with
// planeless.dev/tracing: zipkin, runs them in their network namespaces with
// a real Zipkin on the host's bridge address, and sends one request from
// the client app to the server. Zipkin must hold one trace with the client
// sidecar's CLIENT span and the server sidecar's SERVER span, its child,
// and the server app must have received the trace headers docs/tracing.md
// tells it to copy.
func TestTracesJoinAcrossPods(t *testing.T) {
	t.Parallel()
	h := harness.New(t)
	z := zipkin.Start(t, h.Gateway().String())
	pods := startTraced(t, h, proxy.TracingZipkin, z.Addr)

	r := pods["client"].Get(t, "http://server.shop:8080/books?isbn=42")
	if r.Status != 200 {
		t.Fatalf("status %d %s", r.Status, r.Error)
	}
	t.Run("the app receives the trace headers docs/tracing.md tells it to copy", func(t *testing.T) {
		got := seenBy(t, r)
		for _, name := range []string{"x-request-id", "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled", "traceparent"} {
			if !slices.Contains(bootstrap.TraceHeaders[proxy.TracingZipkin], name) {
				t.Errorf("bootstrap.TraceHeaders lacks %s", name)
			}
			if got.Headers.Get(name) == "" {
				t.Errorf("the server app did not receive %s; it got %v", name, got.Headers)
			}
		}
	})

	trace := z.WaitForTrace(t, "client.shop", func(spans []zipkin.Span) bool {
		return span(spans, "client.shop", "CLIENT") != nil && span(spans, "server.shop", "SERVER") != nil
	})
	c, s := span(trace, "client.shop", "CLIENT"), span(trace, "server.shop", "SERVER")
	if s.TraceID != c.TraceID || s.ParentID != c.ID {
		t.Errorf("server span (trace %s, parent %s) is not the child of the client span (trace %s, id %s)", s.TraceID, s.ParentID, c.TraceID, c.ID)
	}
	if len(c.TraceID) != 32 {
		t.Errorf("trace id %q is not 128-bit", c.TraceID)
	}
	for _, sp := range []*zipkin.Span{c, s} {
		if got := sp.Tags["http.url"]; got != "http://server.shop:8080/books?isbn=42" {
			t.Errorf("%s span http.url = %q", sp.Kind, got)
		}
	}
}

// startTraced starts the client and server of testdata/traced.yaml, both
// tracing every request with provider to endpoint, each with a REST app
// on 8080 and reachable as <name>.shop.
func startTraced(t *testing.T, h *harness.Harness, provider proxy.TracingProvider, endpoint string) map[string]*harness.Pod {
	t.Helper()
	manifest, err := os.ReadFile(filepath.Join("testdata", "traced.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "traced.yaml")
	text := strings.NewReplacer("TRACING_PROVIDER", string(provider), "TRACING_ENDPOINT", endpoint).Replace(string(manifest))
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	pods := map[string]*harness.Pod{}
	for _, p := range harness.Inject(t, file) {
		pods[p.Name] = h.Start(t, p, harness.PodOptions{
			Apps:    map[string][]string{"web": {"rest", "-listen", ":8080", "-name", p.Name}},
			Aliases: []string{p.Name + ".shop"},
		})
	}
	return pods
}

func span(spans []zipkin.Span, service, kind string) *zipkin.Span {
	for i, s := range spans {
		if s.LocalEndpoint.ServiceName == service && s.Kind == kind {
			return &spans[i]
		}
	}
	return nil
}
