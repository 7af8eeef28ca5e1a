package proxy

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/planeless/planeless/tests/pods"
)

func TestClusterWideObservabilityDefaults(t *testing.T) {
	zipkin := DefaultDefaults()
	zipkin.Tracing = Tracing{Provider: TracingZipkin, Endpoint: "zipkin.observability:9411", SamplingPercent: 10}
	zipkin.AccessLogFormat = AccessLogText

	tests := map[string]struct {
		defaults    Defaults
		annotations map[string]string
		want        Tracing
		wantLog     AccessLogFormat
	}{
		"a pod without annotations uses the cluster's collector and format": {
			defaults: zipkin,
			want:     Tracing{Provider: TracingZipkin, Endpoint: "zipkin.observability:9411", SamplingPercent: 10},
			wantLog:  AccessLogText,
		},
		"a pod's annotations override each default": {
			defaults:    zipkin,
			annotations: map[string]string{Prefix + "tracing-sampling": "100", Prefix + "access-log": "json"},
			want:        Tracing{Provider: TracingZipkin, Endpoint: "zipkin.observability:9411", SamplingPercent: 100},
			wantLog:     AccessLogJSON,
		},
		"a pod opts out of the cluster's tracing": {
			defaults:    zipkin,
			annotations: map[string]string{Prefix + "tracing": "off"},
			want:        Tracing{Provider: TracingOff, Endpoint: "zipkin.observability:9411", SamplingPercent: 10},
			wantLog:     AccessLogText,
		},
		"zero-valued defaults mean JSON and no tracing": {
			defaults: Defaults{Ports: DefaultDefaults().Ports, ProxyUID: 1337, ProxyGID: 1337},
			want:     Tracing{Provider: TracingOff},
			wantLog:  AccessLogJSON,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			pod := testPod()
			for k, v := range tc.annotations {
				pods.Annotation(k, v)(pod)
			}
			s, _, err := FromPod(pod, tc.defaults)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, s.Tracing); diff != "" {
				t.Errorf("tracing (-want +got):\n%s", diff)
			}
			if s.AccessLog.Format != tc.wantLog {
				t.Errorf("access log %q, want %q", s.AccessLog.Format, tc.wantLog)
			}
		})
	}
}
