package bootstrap_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"

	"github.com/planeless/planeless/bootstrap"
	"github.com/planeless/planeless/proxy"
)

// httpApp serves HTTP/1.1 and h2c on 127.0.0.1 and answers every request
// with the protocol it arrived in, e.g. "HTTP/2.0".
func httpApp(t *testing.T) uint16 {
	t.Helper()
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	srv := &http.Server{
		Handler:   http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, r.Proto) }),
		Protocols: protocols,
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return uint16(l.Addr().(*net.TCPAddr).Port)
}

// greetingApp is a server-first TCP server (like SMTP or MySQL): it speaks
// first, then echoes.
func greetingApp(t *testing.T) uint16 {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.WriteString(c, "220 hello\n")
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return uint16(l.Addr().(*net.TCPAddr).Port)
}

// h2c is a client that speaks HTTP/2 with prior knowledge over plaintext,
// as gRPC clients do.
func h2c() *http.Client {
	protocols := new(http.Protocols)
	protocols.SetUnencryptedHTTP2(true)
	return &http.Client{Transport: &http.Transport{Protocols: protocols}}
}

func do(t *testing.T, c *http.Client, url, host, contentType string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("POST %s (Host %s, %s): %v", url, host, contentType, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s (Host %s, %s) = %d %s", url, host, contentType, resp.StatusCode, body)
	}
	return string(body)
}

// readGreeting connects to addr, sends nothing and reads the server's first
// line.
func readGreeting(t *testing.T, addr string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the greeting through %s: %v", addr, err)
	}
	return strings.TrimSpace(line)
}

// TestInboundChainsCarryTrafficByProtocol runs the real Envoy with the
// inbound listener rendered for five application ports, one per protocol
// case. Without iptables the original destination of a connection is the
// listener itself, so this test changes one thing only: the inbound
// listener binds 127.0.0.2:<app port> for every app port (the apps listen
// on 127.0.0.1), so the destination port of each connection is the app
// port, exactly as after iptables REDIRECT. Chains, routes and clusters are
// used as rendered.
func TestInboundChainsCarryTrafficByProtocol(t *testing.T) {
	t.Parallel()
	httpPort, grpcPort, autoHTTPPort := httpApp(t), httpApp(t), httpApp(t)
	tcpPort, autoTCPPort := greetingApp(t), greetingApp(t)
	d := defaultsWithFreePorts(t)
	p := pod("shop", "cart-7c9d8f6b5-", withLabel("app", "cart"), withLabel("version", "v1"),
		withAnnotation(proxy.Prefix+"ports", fmt.Sprintf("%d:http,%d:grpc,%d:auto,%d:tcp,%d:auto",
			httpPort, grpcPort, autoHTTPPort, tcpPort, autoTCPPort)))
	s, _, err := proxy.FromPod(p, d)
	if err != nil {
		t.Fatal(err)
	}
	b, err := bootstrap.Build(s)
	if err != nil {
		t.Fatal(err)
	}
	in := listenerNamed(t, b.GetStaticResources().GetListeners(), "inbound")
	in.Address, in.AdditionalAddresses = socketAddr("127.0.0.2", httpPort), nil
	for _, port := range []uint16{grpcPort, autoHTTPPort, tcpPort, autoTCPPort} {
		in.AdditionalAddresses = append(in.AdditionalAddresses, &listenerv3.AdditionalAddress{Address: socketAddr("127.0.0.2", port)})
	}
	e := startEnvoy(t, b, d.Ports.Stats)
	via := func(port uint16) string { return fmt.Sprintf("http://127.0.0.2:%d/svc.Echo/Say", port) }

	tests := map[string]struct {
		client      *http.Client
		port        uint16
		contentType string
		wantProto   string
	}{
		"an HTTP/1.1 request to an http port reaches the app as HTTP/1.1": {http.DefaultClient, httpPort, "text/plain", "HTTP/1.1"},
		"a gRPC request to an http port reaches the app as HTTP/2":        {h2c(), httpPort, "application/grpc", "HTTP/2.0"},
		"an h2c request that is not gRPC reaches the app as HTTP/1.1":     {h2c(), httpPort, "application/json", "HTTP/1.1"},
		"any request to a grpc port reaches the app as HTTP/2":            {h2c(), grpcPort, "application/grpc+proto", "HTTP/2.0"},
		"an HTTP/1.1 request to an auto port reaches the app as HTTP/1.1": {http.DefaultClient, autoHTTPPort, "text/plain", "HTTP/1.1"},
		"a gRPC request to an auto port reaches the app as HTTP/2":        {h2c(), autoHTTPPort, "application/grpc", "HTTP/2.0"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := do(t, tc.client, via(tc.port), "", tc.contentType); got != tc.wantProto {
				t.Errorf("the app saw %s, want %s", got, tc.wantProto)
			}
		})
	}
	t.Run("a server-first protocol on a tcp port gets the server's greeting", func(t *testing.T) {
		if got := readGreeting(t, fmt.Sprintf("127.0.0.2:%d", tcpPort)); got != "220 hello" {
			t.Errorf("greeting = %q", got)
		}
	})
	t.Run("a server-first protocol on an auto port gets the server's greeting after sniffing gives up", func(t *testing.T) {
		if got := readGreeting(t, fmt.Sprintf("127.0.0.2:%d", autoTCPPort)); got != "220 hello" {
			t.Errorf("greeting = %q", got)
		}
	})

	t.Run("every HTTP request is logged as JSON with the pod's identity", func(t *testing.T) {
		l := waitForLogLine(t, e, func(l map[string]any) bool {
			return l["upstream_cluster"] == fmt.Sprintf("inbound|%d|grpc", httpPort)
		})
		for field, want := range map[string]any{
			"direction": "inbound", "namespace": "shop", "app": "cart", "version": "v1", "pod": testPodName,
			"source_workload": nil, "destination_workload": "cart.shop",
			"path": "/svc.Echo/Say", "method": "POST", "protocol": "HTTP/2", "response_code": float64(200),
			"upstream_host": fmt.Sprintf("127.0.0.1:%d", httpPort),
		} {
			if l[field] != want {
				t.Errorf("access log field %s = %#v, want %#v", field, l[field], want)
			}
		}
		for _, f := range bootstrap.AccessLogFields {
			if _, ok := l[f.Name]; !ok {
				t.Errorf("access log line lacks field %s", f.Name)
			}
		}
	})
}

// TestOutboundForwardsHTTPByHostPerDestination runs the real Envoy's
// outbound listener as rendered and sends requests to it directly, with
// the Host of an app on 127.0.0.1: the dynamic forward proxy resolves it,
// creates a sub-cluster for that destination and keeps the client's
// protocol upstream.
func TestOutboundForwardsHTTPByHostPerDestination(t *testing.T) {
	t.Parallel()
	app := httpApp(t)
	d := defaultsWithFreePorts(t)
	s, _, err := proxy.FromPod(pod("shop", "cart-7c9d8f6b5-", withLabel("app", "cart")), d)
	if err != nil {
		t.Fatal(err)
	}
	b, err := bootstrap.Build(s)
	if err != nil {
		t.Fatal(err)
	}
	e := startEnvoy(t, b, d.Ports.Stats)
	outbound := fmt.Sprintf("http://127.0.0.1:%d/svc.Echo/Say", d.Ports.Outbound)
	host := fmt.Sprintf("127.0.0.1:%d", app)

	if got := do(t, http.DefaultClient, outbound, host, "text/plain"); got != "HTTP/1.1" {
		t.Errorf("an HTTP/1.1 request reached the app as %s", got)
	}
	if got := do(t, h2c(), outbound, host, "application/grpc"); got != "HTTP/2.0" {
		t.Errorf("a gRPC request reached the app as %s", got)
	}

	waitForLogLine(t, e, func(l map[string]any) bool {
		return l["direction"] == "outbound" && l["upstream_host"] == host && l["protocol"] == "HTTP/2"
	})
	_, metrics := get(t, http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/stats/prometheus", d.Ports.Stats))
	// The destination's own cluster, with its whole name as the
	// envoy_cluster_name label despite the dots of its host.
	want := fmt.Sprintf(`envoy_cluster_upstream_rq_total{namespace="shop",app="cart",version="unknown",envoy_cluster_name="DFPCluster_127.0.0.1_%d",destination_host="127.0.0.1",destination_port="%d"} 2`, app, app)
	if !strings.Contains(metrics, want) {
		t.Errorf("no per-destination metric %s in /stats/prometheus; cluster metrics:\n%s", want, grepLines(metrics, "upstream_rq_total"))
	}
}

func grepLines(text, substr string) string {
	var b strings.Builder
	for line := range strings.Lines(text) {
		if strings.Contains(line, substr) {
			b.WriteString(line)
		}
	}
	return b.String()
}

func listenerNamed(t *testing.T, ls []*listenerv3.Listener, name string) *listenerv3.Listener {
	t.Helper()
	for _, l := range ls {
		if l.GetName() == name {
			return l
		}
	}
	t.Fatalf("no listener %q", name)
	return nil
}

func socketAddr(ip string, port uint16) *corev3.Address {
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Address: ip, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: uint32(port)},
	}}}
}
