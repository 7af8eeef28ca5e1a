package dataplane

import (
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"testing"

	"github.com/planeless/planeless/bootstrap"
	"github.com/planeless/planeless/tests/apps/echo"
	"github.com/planeless/planeless/tests/harness"
)

// TestInboundPortsCarryTrafficByProtocol calls each port of
// testdata/protocols.yaml, one per protocol case of the inbound listener,
// from a pod without a sidecar, so only the server's sidecar is on the
// way: each request reaches the application in the protocol its port
// promises, and a server that speaks first is heard.
func TestInboundPortsCarryTrafficByProtocol(t *testing.T) {
	t.Parallel()
	h := harness.New(t)
	cart := h.Start(t, harness.Inject(t, filepath.Join("testdata", "protocols.yaml"))[0], harness.PodOptions{Apps: map[string][]string{
		"http":        {"rest", "-grpc", "-listen", ":8081", "-name", "http"},
		"grpc":        {"rest", "-grpc", "-listen", ":8082", "-name", "grpc"},
		"auto":        {"rest", "-grpc", "-listen", ":8083", "-name", "auto"},
		"tcp-banner":  {"tcp-echo", "-listen", ":8084", "-banner", "220 tcp"},
		"auto-banner": {"tcp-echo", "-listen", ":8085", "-banner", "220 auto"},
	}})
	caller := h.Plain(t, "caller", harness.PodOptions{})

	// The apps answer REST with the protocol the request arrived in.
	for name, tc := range map[string]struct {
		port, contentType string
		h2c               bool
		wantApp           string
		wantProto         string
	}{
		"an HTTP/1.1 request to an http port reaches the app as HTTP/1.1":             {"8081", "text/plain", false, "http", "HTTP/1.1"},
		"an h2c request that is not gRPC to an http port reaches the app as HTTP/1.1": {"8081", "application/json", true, "http", "HTTP/1.1"},
		"an HTTP/1.1 request to a grpc port reaches the app as HTTP/2":                {"8082", "text/plain", false, "grpc", "HTTP/2.0"},
		"an h2c request that is not gRPC to a grpc port reaches the app as HTTP/2":    {"8082", "application/json", true, "grpc", "HTTP/2.0"},
		"an HTTP/1.1 request to an auto port reaches the app as HTTP/1.1":             {"8083", "text/plain", false, "auto", "HTTP/1.1"},
	} {
		t.Run(name, func(t *testing.T) {
			args := []string{"-X", "POST", "-d", "x", "-H", "Content-Type: " + tc.contentType}
			if tc.h2c {
				args = append(args, "-h2c")
			}
			got := seenBy(t, get(t, caller, append(args, "http://cart:"+tc.port+"/svc.Echo/Say")...))
			if got.Server != tc.wantApp || got.Proto != tc.wantProto {
				t.Errorf("app %q saw %s, want app %q and %s", got.Server, got.Proto, tc.wantApp, tc.wantProto)
			}
		})
	}

	// The apps hand gRPC to their gRPC server only over HTTP/2 (and a gRPC
	// server answers nothing else): a call that succeeds arrived as HTTP/2.
	for name, tc := range map[string]struct{ port, wantApp string }{
		"a gRPC call to an http port reaches the app as HTTP/2": {"8081", "http"},
		"a gRPC call to a grpc port reaches the app as HTTP/2":  {"8082", "grpc"},
		"a gRPC call to an auto port reaches the app as HTTP/2": {"8083", "auto"},
	} {
		t.Run(name, func(t *testing.T) {
			r := caller.GRPC(t, "-target", "cart:"+tc.port, "-payload", "hi")
			if r.Code != "OK" || r.Received == nil || r.Received.Server != tc.wantApp {
				t.Errorf("gRPC call: %s %s, received %+v; want OK from app %q", r.Code, r.Message, r.Received, tc.wantApp)
			}
		})
	}

	for name, tc := range map[string]struct{ port, banner string }{
		"a server-first protocol on a tcp port gets the server's greeting":                           {"8084", "220 tcp"},
		"a server-first protocol on an auto port gets the server's greeting after sniffing gives up": {"8085", "220 auto"},
	} {
		t.Run(name, func(t *testing.T) {
			out, err := caller.Exec(t.Context(), caller.AppUID, "testapp", "tcp-call", "-addr", "cart:"+tc.port, "-banner", "-msg", "EHLO")
			if want := tc.banner + "\nEHLO"; err != nil || out != want {
				t.Errorf("got %q (%v), want %q", out, err, want)
			}
		})
	}

	t.Run("every HTTP request is logged as JSON with the pod's identity", func(t *testing.T) {
		l := logLine(t, cart, func(l map[string]any) bool {
			return l["upstream_cluster"] == "inbound|grpc" && l["upstream_host"] == fmt.Sprintf("%s:8081", cart.IP)
		})
		for field, want := range map[string]any{
			"direction": "inbound", "namespace": "shop", "app": "cart", "version": "v1", "pod": "cart",
			"source_workload": nil, "destination_workload": "cart.shop",
			"path": "/grpc.testing.TestService/UnaryCall", "method": "POST", "protocol": "HTTP/2",
			"response_code": float64(200), "grpc_status": "OK",
			"upstream_host": fmt.Sprintf("%s:8081", cart.IP),
		} {
			if l[field] != want {
				t.Errorf("access log field %s = %#v, want %#v", field, l[field], want)
			}
		}
		if host, _, err := net.SplitHostPort(fmt.Sprint(l["client_address"])); err != nil || host != caller.IP.String() {
			t.Errorf("client_address %v, want %s:<port>", l["client_address"], caller.IP)
		}
		for _, f := range bootstrap.AccessLogFields {
			if _, ok := l[f.Name]; !ok {
				t.Errorf("access log line lacks field %s", f.Name)
			}
		}
	})
}

// get runs `testapp get args...` as p's application (through its sidecar,
// if it has one).
func get(t *testing.T, p *harness.Pod, args ...string) echo.Response {
	t.Helper()
	out, err := p.Exec(t.Context(), p.AppUID, slices.Concat([]string{"testapp", "get"}, args)...)
	if err != nil {
		t.Fatalf("pod %s: testapp get %v: %v", p.Name, args, err)
	}
	var r echo.Response
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("pod %s: testapp get: decoding %q: %v", p.Name, out, err)
	}
	return r
}
