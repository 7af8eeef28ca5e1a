package dataplane

import (
	"fmt"
	"testing"
)

// TestNonHTTPEgressPassesThroughUntouched sends raw TCP from the injected
// client to a pod without a sidecar: the bytes must come back unchanged,
// for a client-first protocol, for one where the server speaks first
// (SMTP, MySQL), which protocol sniffing must not stall. A client that
// half-closes right after a request shorter than a line (`printf hi | nc
// host port`) is reset by Envoy's protocol sniffing (a known limit, in the
// README): the port excluded with planeless.dev/exclude-outbound-ports, it
// goes straight to its destination.
func TestNonHTTPEgressPassesThroughUntouched(t *testing.T) {
	t.Parallel()
	s := startShop(t)
	tests := map[string]struct {
		args     []string
		want     string
		captured float64
	}{
		"a client-first protocol (echo)": {
			args:     []string{"-addr", "echo:7000", "-msg", "PING raw bytes \r\n\t~ not HTTP"},
			want:     "PING raw bytes \r\n\t~ not HTTP",
			captured: 1,
		},
		"a server-first protocol (banner, then echo)": {
			args:     []string{"-addr", "echo:7001", "-banner", "-msg", "EHLO planeless"},
			want:     "220 echo ready\nEHLO planeless",
			captured: 1,
		},
		"a client that half-closes right after a short request, on an excluded port": {
			args:     []string{"-addr", "echo:7002", "-half-close", "-msg", "hello"},
			want:     "hello",
			captured: 0,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			before := s.client.Stats(t).Sum("envoy_listener_downstream_cx_total", map[string]string{"envoy_listener_address": "127.0.0.1_15001"})
			out, err := s.client.Exec(t.Context(), s.client.AppUID, append([]string{"testapp", "tcp-call"}, tc.args...)...)
			if err != nil {
				t.Fatalf("tcp-call: %v", err)
			}
			if out != tc.want {
				t.Errorf("got %q back, want %q", out, tc.want)
			}
			after := s.client.Stats(t).Sum("envoy_listener_downstream_cx_total", map[string]string{"envoy_listener_address": "127.0.0.1_15001"})
			if after-before != tc.captured {
				t.Errorf("the client's outbound listener accepted %v connections, want %v", after-before, tc.captured)
			}
		})
	}
}

// TestAppCallsItselfWithoutALoop makes the client's app call its own pod
// IP, localhost and its own Service name.
func TestAppCallsItselfWithoutALoop(t *testing.T) {
	t.Parallel()
	s := startShop(t)
	for name, url := range map[string]string{
		"its own pod IP":       fmt.Sprintf("http://%s:8080/self", s.client.IP),
		"localhost":            "http://localhost:8080/self",
		"127.0.0.1":            "http://127.0.0.1:8080/self",
		"its own Service name": "http://client-svc:8080/self",
		"its own pod name":     "http://client:8080/self",
	} {
		t.Run(name, func(t *testing.T) {
			r := s.client.Get(t, url)
			if r.Status != 200 {
				t.Fatalf("GET %s: status %d %s, want 200", url, r.Status, r.Error)
			}
		})
	}
}
