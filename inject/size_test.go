package inject

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/planeless/planeless/bootstrap"
	"github.com/planeless/planeless/proxy"
	"github.com/planeless/planeless/tests/pods"
)

// maxRenderedBytes bounds the bootstrap of any spec the annotations can
// express, far under maxBootstrapBytes.
const maxRenderedBytes = 96 << 10

// The bootstrap does not grow with the ports of one protocol, grows by a
// few hundred bytes at most per port of the other protocols (its entries
// in the filter chain matcher and in the HTTP inspector's ports), and the
// largest spec the bounds allow fits: every protocol on proxy.MaxPorts
// ports, the most logged headers, the longest names, tracing, egress and
// IPv6.
func TestEveryBootstrapFitsTheAnnotation(t *testing.T) {
	spec := func(ports int, mixed bool) *proxy.Spec {
		s := &proxy.Spec{
			Workload: proxy.Workload{
				Namespace: strings.Repeat("n", 63), Name: strings.Repeat("p", 253),
				App: strings.Repeat("a", 63), Version: strings.Repeat("v", 63),
			},
			Egress: true, IPv6: true, OpaquePorts: proxy.DefaultOpaquePorts(),
			Proxy:     proxy.Sidecar{LogLevel: "warning", Concurrency: 2, DrainSeconds: 5, UID: 1337, GID: 1337, Ports: proxy.DefaultDefaults().Ports},
			AccessLog: proxy.AccessLog{Format: proxy.AccessLogJSON},
			Tracing:   proxy.Tracing{Provider: proxy.TracingZipkin, Endpoint: "collector.tracing:9411", SamplingPercent: 1},
		}
		for p := range ports {
			protocol := proxy.ProtocolAuto
			if mixed {
				protocol = proxy.Protocols[p%len(proxy.Protocols)]
			}
			s.Inbound = append(s.Inbound, proxy.Port{Number: uint16(10000 + 7*p), Protocol: protocol})
		}
		for h := range 16 { // the most an annotation may log
			s.AccessLog.RequestHeaders = append(s.AccessLog.RequestHeaders, fmt.Sprintf("x-%02d-%s", h, strings.Repeat("h", 60)))
			s.AccessLog.ResponseHeaders = append(s.AccessLog.ResponseHeaders, fmt.Sprintf("y-%02d-%s", h, strings.Repeat("h", 60)))
		}
		return s
	}
	size := func(s *proxy.Spec) int {
		t.Helper()
		config, err := bootstrap.Render(s)
		if err != nil {
			t.Fatal(err)
		}
		return len(config)
	}
	one, same, mixed := size(spec(1, false)), size(spec(proxy.MaxPorts, false)), size(spec(proxy.MaxPorts, true))
	t.Logf("1 port: %d bytes; %d ports of one protocol: %d; of all protocols: %d", one, proxy.MaxPorts, same, mixed)
	if same-one > 256 {
		t.Errorf("%d ports of one protocol add %d bytes to the bootstrap of 1 port, want none but their listener filter", proxy.MaxPorts, same-one)
	}
	if perPort := (mixed - one) / proxy.MaxPorts; perPort > 200 {
		t.Errorf("ports of mixed protocols cost %d bytes each, want at most 200", perPort)
	}
	if mixed > maxRenderedBytes {
		t.Errorf("the largest bootstrap is %d bytes, more than %d", mixed, maxRenderedBytes)
	}
}

// A pod whose own annotations leave no room for the bootstrap is refused
// before rendering, saying so.
func TestAnnotationsLeavingNoRoomAreRefused(t *testing.T) {
	tests := map[string]struct {
		annotation int
		wantErr    string
	}{
		"annotations over Kubernetes' limit": {annotation: 300 << 10, wantErr: "the pod's annotations take more than the 256 KiB Kubernetes allows"},
		"annotations leaving too little":     {annotation: 250 << 10, wantErr: "KiB the pod's annotations leave it"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			pod := pods.New("p", pods.Namespace("n"), pods.Annotation("example.com/big", strings.Repeat("x", tc.annotation)))
			_, err := New().Inject(pod)
			var podErr *proxy.PodError
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.As(err, &podErr) {
				t.Fatalf("error = %v, want a PodError containing %q", err, tc.wantErr)
			}
		})
	}
}
