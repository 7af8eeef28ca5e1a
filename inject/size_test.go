package inject

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/planeless/planeless/bootstrap"
	"github.com/planeless/planeless/proxy"
	"github.com/planeless/planeless/tests/pods"
)

// The size check before rendering is only as good as the estimate: it must
// never exceed the rendered size (or a pod that fits would be refused),
// and stay close to it (or rendering would not be bounded by the check).
// Specs of every shape: each protocol, headers, long names, tracing,
// egress and IPv6 on and off, every access log format.
func TestEstimateIsALowerBoundCloseToTheRenderedSize(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	protocols := proxy.Protocols
	for n := range 300 {
		s := &proxy.Spec{
			Workload: proxy.Workload{
				Namespace: strings.Repeat("n", 1+rng.IntN(63)), Name: strings.Repeat("p", 1+rng.IntN(253)),
				App: strings.Repeat("a", 1+rng.IntN(63)), Version: strings.Repeat("v", 1+rng.IntN(63)),
			},
			Egress: rng.IntN(2) == 0, IPv6: rng.IntN(2) == 0,
			Proxy:     proxy.Sidecar{LogLevel: "warning", Concurrency: 2, DrainSeconds: 5, UID: 1337, GID: 1337, Ports: proxy.DefaultDefaults().Ports},
			AccessLog: proxy.AccessLog{Format: proxy.AccessLogFormats[rng.IntN(len(proxy.AccessLogFormats))]},
			Tracing:   proxy.Tracing{Provider: proxy.TracingProviders[rng.IntN(len(proxy.TracingProviders))], Endpoint: "collector.tracing:4317", SamplingPercent: 1},
		}
		for p := range rng.IntN(41) {
			s.Inbound = append(s.Inbound, proxy.Port{Number: uint16(1000 + p), Protocol: protocols[rng.IntN(len(protocols))]})
		}
		for h := range rng.IntN(17) {
			s.AccessLog.RequestHeaders = append(s.AccessLog.RequestHeaders, fmt.Sprintf("x-%d-%s", h, strings.Repeat("h", rng.IntN(58))))
		}
		for h := range rng.IntN(17) {
			s.AccessLog.ResponseHeaders = append(s.AccessLog.ResponseHeaders, fmt.Sprintf("y-%d-%s", h, strings.Repeat("h", rng.IntN(58))))
		}
		config, err := bootstrap.Render(s)
		if err != nil {
			t.Fatal(err)
		}
		est, size := estimateBootstrap(s), len(config)
		if est > size || float64(est) < 0.8*float64(size) {
			t.Errorf("spec %d (%d ports, %d+%d headers, egress %v, log %s, tracing %s): estimate %d, rendered %d (%.2f); recalibrate estimateBootstrap",
				n, len(s.Inbound), len(s.AccessLog.RequestHeaders), len(s.AccessLog.ResponseHeaders), s.Egress, s.AccessLog.Format, s.Tracing.Provider, est, size, float64(est)/float64(size))
		}
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
