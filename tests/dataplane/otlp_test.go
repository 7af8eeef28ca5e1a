package dataplane

import (
	"bytes"
	"net"
	"sync"
	"testing"
	"time"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/planeless/planeless/proxy"
	"github.com/planeless/planeless/tests/harness"
)

// TestTwoSidecarsExportOTLP is TestTracesJoinAcrossPods with
// planeless.dev/tracing: otlp: both sidecars export over OTLP/gRPC to a
// receiver on the host's bridge address, the server's span a child of the
// client's in the same trace, each named after its workload.
func TestTwoSidecarsExportOTLP(t *testing.T) {
	t.Parallel()
	h := harness.New(t)
	r := startOTLPReceiver(t, h.Gateway().String())
	pods := startTraced(t, h, proxy.TracingOTLP, r.addr)
	if got := pods["client"].Get(t, "http://server.shop:8080/books"); got.Status != 200 {
		t.Fatalf("status %d %s", got.Status, got.Error)
	}

	var c, s *tracepb.Span
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if c, s = r.span("client.shop", tracepb.Span_SPAN_KIND_CLIENT), r.span("server.shop", tracepb.Span_SPAN_KIND_SERVER); c != nil && s != nil {
			break
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if c == nil || s == nil {
		t.Fatalf("no client and server span after 30s; exports %v, spans %v", r.methods, r.spans)
	}
	if !bytes.Equal(s.GetTraceId(), c.GetTraceId()) || !bytes.Equal(s.GetParentSpanId(), c.GetSpanId()) {
		t.Errorf("server span (trace %x, parent %x) is not the child of the client span (trace %x, id %x)",
			s.GetTraceId(), s.GetParentSpanId(), c.GetTraceId(), c.GetSpanId())
	}
	if r.methods[0] != "/opentelemetry.proto.collector.trace.v1.TraceService/Export" {
		t.Errorf("Envoy called %s", r.methods[0])
	}
}

// otlpReceiver is a gRPC server that accepts OTLP trace exports: it reads
// each request as the OTLP protobuf (ExportTraceServiceRequest has the
// wire format of TracesData) and answers with an empty response.
type otlpReceiver struct {
	addr    string
	mu      sync.Mutex
	methods []string
	spans   map[string][]*tracepb.Span // by service.name
}

// rawCodec hands the receiver the request's bytes as they came.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error)      { return *(v.(*[]byte)), nil }
func (rawCodec) Unmarshal(data []byte, v any) error { *(v.(*[]byte)) = bytes.Clone(data); return nil }
func (rawCodec) Name() string                       { return "proto" }

// startOTLPReceiver listens on host, a free port, until the test ends.
func startOTLPReceiver(t *testing.T, host string) *otlpReceiver {
	t.Helper()
	r := &otlpReceiver{spans: map[string][]*tracepb.Span{}}
	srv := grpc.NewServer(grpc.ForceServerCodec(rawCodec{}), grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
		method, _ := grpc.MethodFromServerStream(stream)
		var req []byte
		if err := stream.RecvMsg(&req); err != nil {
			return err
		}
		var data tracepb.TracesData
		if err := proto.Unmarshal(req, &data); err != nil {
			return err
		}
		r.mu.Lock()
		r.methods = append(r.methods, method)
		for _, rs := range data.GetResourceSpans() {
			var service string
			for _, a := range rs.GetResource().GetAttributes() {
				if a.GetKey() == "service.name" {
					service = a.GetValue().GetStringValue()
				}
			}
			for _, ss := range rs.GetScopeSpans() {
				r.spans[service] = append(r.spans[service], ss.GetSpans()...)
			}
		}
		r.mu.Unlock()
		empty := []byte{}
		return stream.SendMsg(&empty)
	}))
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(srv.Stop)
	r.addr = l.Addr().String()
	return r
}

func (r *otlpReceiver) span(service string, kind tracepb.Span_SpanKind) *tracepb.Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.spans[service] {
		if s.GetKind() == kind {
			return s
		}
	}
	return nil
}
