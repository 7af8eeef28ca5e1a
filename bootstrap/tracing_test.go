package bootstrap_test

import (
	"fmt"
	"net"
	"net/http"
	"slices"
	"testing"

	"github.com/planeless/planeless/bootstrap"
	"github.com/planeless/planeless/proxy"
	"github.com/planeless/planeless/tests/zipkin"
)

// TestTwoSidecarsReportOneTrace runs a real Zipkin and two real Envoys on
// loopback, a client pod's and a server pod's, both with
// planeless.dev/tracing: zipkin. A request goes out through the client's
// outbound listener and in through the server's inbound listener (bound to
// 127.0.0.3:<app port>, as after iptables); Zipkin must then hold one trace
// with the client's CLIENT span and the server's SERVER span, its child.
func TestTwoSidecarsReportOneTrace(t *testing.T) {
	t.Parallel()
	z := zipkin.Start(t, "127.0.0.1")
	app, received := headersApp(t)
	traced := []podOption{
		withAnnotation(proxy.Prefix+"tracing", "zipkin"),
		withAnnotation(proxy.Prefix+"tracing-endpoint", z.Addr),
		withAnnotation(proxy.Prefix+"tracing-sampling", "100"),
	}
	client, _ := sidecar(t, "client", "", 0, traced...)
	sidecar(t, "server", "127.0.0.3", app, traced...)

	if code := send(t, http.DefaultClient, client.Ports.Outbound, fmt.Sprintf("127.0.0.3:%d", app), "/books?isbn=42", "text/plain"); code != 200 {
		t.Fatalf("status %d", code)
	}

	t.Run("the app receives the trace headers docs/tracing.md tells it to copy", func(t *testing.T) {
		h := <-received
		for _, name := range []string{"x-request-id", "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled", "traceparent"} {
			if !slices.Contains(bootstrap.TraceHeaders[proxy.TracingZipkin], name) {
				t.Errorf("bootstrap.TraceHeaders lacks %s", name)
			}
			if h.Get(name) == "" {
				t.Errorf("the app received no %s header; it got %v", name, h)
			}
		}
	})

	trace := z.WaitForTrace(t, "client.shop", func(spans []zipkin.Span) bool {
		return find(spans, "client.shop", "CLIENT") != nil && find(spans, "server.shop", "SERVER") != nil
	})
	c, s := find(trace, "client.shop", "CLIENT"), find(trace, "server.shop", "SERVER")
	if s.TraceID != c.TraceID {
		t.Errorf("server span in trace %s, client span in trace %s", s.TraceID, c.TraceID)
	}
	if s.ParentID != c.ID {
		t.Errorf("server span's parent is %q, want the client span %q", s.ParentID, c.ID)
	}
	if len(c.TraceID) != 32 {
		t.Errorf("trace id %q is not 128-bit", c.TraceID)
	}
	if got := s.Tags["http.url"]; got != fmt.Sprintf("http://127.0.0.3:%d/books?isbn=42", app) {
		t.Errorf("server span http.url = %q", got)
	}
}

// sidecar runs a real Envoy for pod app in namespace shop; with appPort
// set, its inbound listener serves appPort on inboundIP.
func sidecar(t *testing.T, app, inboundIP string, appPort uint16, opts ...podOption) (proxy.Defaults, *envoyProcess) {
	t.Helper()
	d := defaultsWithFreePorts(t)
	opts = append([]podOption{withLabel("app", app), withLabel("version", "v1")}, opts...)
	if appPort != 0 {
		opts = append(opts, withAnnotation(proxy.Prefix+"ports", fmt.Sprintf("%d:http", appPort)))
	}
	s, _, err := proxy.FromPod(pod("shop", app+"-7c9d8f6b5-", opts...), d)
	if err != nil {
		t.Fatal(err)
	}
	b, err := buildWithInboundOn(t, s, inboundIP, appPort)
	if err != nil {
		t.Fatal(err)
	}
	return d, startEnvoy(t, b, d.Ports.Stats)
}

// headersApp serves HTTP on 127.0.0.1 and sends the headers of every
// request it receives on the channel.
func headersApp(t *testing.T) (uint16, <-chan http.Header) {
	t.Helper()
	ch := make(chan http.Header, 16)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case ch <- r.Header.Clone():
		default:
		}
	})}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return uint16(l.Addr().(*net.TCPAddr).Port), ch
}

func find(spans []zipkin.Span, service, kind string) *zipkin.Span {
	for i, s := range spans {
		if s.LocalEndpoint.ServiceName == service && s.Kind == kind {
			return &spans[i]
		}
	}
	return nil
}
