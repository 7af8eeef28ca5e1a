package dataplane

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/planeless/planeless/tests/apps/echo"
)

// TestTrafficThroughBothSidecars sends REST and gRPC from the client pod to
// the server pod: out through the client's Envoy, in through the server's.
func TestTrafficThroughBothSidecars(t *testing.T) {
	t.Parallel()
	s := startShop(t)

	t.Run("a REST request reaches the server app unchanged", func(t *testing.T) {
		r := s.client.Get(t, "http://server:8080/orders/42?color=blue", "X-Custom: kept")
		if r.Status != 200 {
			t.Fatalf("status %d %s, want 200", r.Status, r.Error)
		}
		var got echo.Request
		if err := json.Unmarshal([]byte(r.Body), &got); err != nil {
			t.Fatalf("decoding the server's report %q: %v", r.Body, err)
		}
		want := echo.Request{Server: "server", Method: "GET", Path: "/orders/42?color=blue", Proto: "HTTP/1.1", Host: "server:8080"}
		if diff := cmp.Diff(want, echo.Request{Server: got.Server, Method: got.Method, Path: got.Path, Proto: got.Proto, Host: got.Host}); diff != "" {
			t.Errorf("the server saw another request (-sent +seen):\n%s", diff)
		}
		for k, v := range map[string]string{"X-Custom": "kept", "User-Agent": "Go-http-client/1.1"} {
			if got.Headers.Get(k) != v {
				t.Errorf("the server saw header %s = %q, want %q", k, got.Headers.Get(k), v)
			}
		}
	})

	t.Run("a POST with a body reaches the server app unchanged", func(t *testing.T) {
		body := `{"order": 42, "note": "ünïcødé and\nnewlines"}`
		r := s.client.Request(t, s.client.AppUID, "POST", "http://server:8080/orders", body, "Content-Type: application/json")
		if r.Status != 200 {
			t.Fatalf("status %d %s, want 200", r.Status, r.Error)
		}
		var got echo.Request
		if err := json.Unmarshal([]byte(r.Body), &got); err != nil {
			t.Fatalf("decoding the server's report %q: %v", r.Body, err)
		}
		if got.Method != "POST" || got.Body != body || got.Headers.Get("Content-Type") != "application/json" {
			t.Errorf("the server saw %s with body %q and content-type %q, want POST, %q, application/json", got.Method, got.Body, got.Headers.Get("Content-Type"), body)
		}
	})

	t.Run("the server's status code comes back as it was sent", func(t *testing.T) {
		if r := s.client.Get(t, "http://server:8080/fail?status=503"); r.Status != 503 {
			t.Errorf("status %d %s, want 503", r.Status, r.Error)
		}
	})

	t.Run("a gRPC call reaches the server app with its payload and metadata", func(t *testing.T) {
		r := s.client.GRPC(t, "-target", "server:9090", "-payload", "hello", "-H", "x-custom: kept")
		if r.Code != "OK" || r.Received == nil {
			t.Fatalf("gRPC call: %s %s, want OK", r.Code, r.Message)
		}
		got := r.Received
		if got.Server != "server" || got.Payload != "hello" || got.Authority != "server:9090" {
			t.Errorf("the server saw server=%q payload=%q authority=%q, want server, hello, server:9090", got.Server, got.Payload, got.Authority)
		}
		if diff := cmp.Diff([]string{"kept"}, got.Metadata["x-custom"]); diff != "" {
			t.Errorf("metadata x-custom (-sent +seen):\n%s", diff)
		}
	})

	t.Run("a gRPC error status comes back as it was sent", func(t *testing.T) {
		if r := s.client.GRPC(t, "-target", "server:9090", "-code", "14"); r.Code != "Unavailable" {
			t.Errorf("gRPC status %s %s, want Unavailable", r.Code, r.Message)
		}
	})

	t.Run("on one port gRPC goes to the HTTP/2 cluster and REST to the HTTP/1.1 cluster", func(t *testing.T) {
		before := s.server.Stats(t)
		if r := s.client.Get(t, "http://server:8080/rest"); r.Status != 200 {
			t.Fatalf("REST: status %d %s", r.Status, r.Error)
		}
		if r := s.client.GRPC(t, "-target", "server:8080", "-payload", "same port"); r.Code != "OK" {
			t.Fatalf("gRPC: %s %s", r.Code, r.Message)
		}
		after := s.server.Stats(t)
		for name, want := range map[string]float64{"inbound|http": 1, "inbound|grpc": 1} {
			got := after.Sum(upstreamRqTotal, cluster(name)) - before.Sum(upstreamRqTotal, cluster(name))
			if got != want {
				t.Errorf("cluster %s got %v requests, want %v", name, got, want)
			}
		}
	})
}

// TestGRPCStreamOutlivesTheDefaultRouteTimeout holds a server stream open
// for 20 s, past Envoy's default 15 s route timeout, through both sidecars.
func TestGRPCStreamOutlivesTheDefaultRouteTimeout(t *testing.T) {
	t.Parallel()
	s := startShop(t)
	for name, target := range map[string]string{
		"on a gRPC port":          "server:9090",
		"on an HTTP port (split)": "server:8080",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := s.client.GRPC(t, "-target", target, "-stream", "-messages", "4", "-interval", "5s")
			if r.Code != "OK" || r.Messages != 4 {
				t.Errorf("stream ended with %s %q after %d of 4 messages and %.1fs", r.Code, r.Message, r.Messages, r.Seconds)
			}
			if r.Seconds < 15 {
				t.Errorf("the stream lasted %.1fs; it must outlast 15s to prove anything", r.Seconds)
			}
		})
	}
}

// TestIPv6TrafficThroughBothSidecars calls the server at its IPv6 address:
// ip6tables redirects both ways, the client's forward proxy is pinned to
// the dialled IPv6 address, and the server's Envoy reaches the app from
// ::6 at the pod's own IPv6 address.
func TestIPv6TrafficThroughBothSidecars(t *testing.T) {
	t.Parallel()
	s := startShop(t)
	server := "[" + s.server.IP6.String() + "]"

	t.Run("a REST request reaches the server app and the client pod's address is forwarded", func(t *testing.T) {
		before := s.client.Stats(t).Sum(downstreamRqTotal, map[string]string{"envoy_http_conn_manager_prefix": "outbound_http"})
		r := s.client.Get(t, "http://"+server+":8080/v6")
		if r.Status != 200 {
			t.Fatalf("status %d %s, want 200", r.Status, r.Error)
		}
		var got echo.Request
		if err := json.Unmarshal([]byte(r.Body), &got); err != nil {
			t.Fatalf("decoding %q: %v", r.Body, err)
		}
		if got.Server != "server" || got.Headers.Get("X-Forwarded-For") != s.client.IP6.String() {
			t.Errorf("answered by %q with X-Forwarded-For %q, want server and %s", got.Server, got.Headers.Get("X-Forwarded-For"), s.client.IP6)
		}
		if n := s.client.Stats(t).Sum(downstreamRqTotal, map[string]string{"envoy_http_conn_manager_prefix": "outbound_http"}) - before; n != 1 {
			t.Errorf("the client's outbound listener saw %v requests, want 1: the request did not go through the sidecar", n)
		}
	})
	t.Run("a gRPC call reaches the server app", func(t *testing.T) {
		if r := s.client.GRPC(t, "-target", server+":9090", "-payload", "v6"); r.Code != "OK" || r.Received == nil || r.Received.Payload != "v6" {
			t.Errorf("gRPC call: %s %s", r.Code, r.Message)
		}
	})
}
