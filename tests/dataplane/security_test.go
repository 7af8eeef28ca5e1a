package dataplane

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/planeless/planeless/bootstrap"
	"github.com/planeless/planeless/tests/harness"
)

// TestTheDialledDestinationWins attacks the outbound side: requests whose
// Host names the proxy's admin interface, its own listeners or another
// pod, from the application and from outside the pod through a
// Host-preserving reverse proxy. Every one is answered by the server the
// connection was dialled to.
func TestTheDialledDestinationWins(t *testing.T) {
	t.Parallel()
	a := startAdversaries(t)

	for _, host := range []string{"127.0.0.1:15000", "[::1]:15000", "localhost:15000", "127.0.0.1:15090", "localhost"} {
		t.Run("Host "+host+" sent by the app is answered by the dialled server", func(t *testing.T) {
			got := seenBy(t, a.client.Get(t, "http://server:8080/config_dump", "Host: "+host))
			if got.Server != "server" || got.Path != "/config_dump" || got.Host != host {
				t.Errorf("answered by %q for %s with Host %q; want the server, the path and the Host unchanged", got.Server, got.Path, got.Host)
			}
		})
	}

	t.Run("POST /drain_listeners with an admin Host reaches the server, and the client's proxy keeps serving", func(t *testing.T) {
		r := a.client.Request(t, a.client.AppUID, http.MethodPost, "http://server:8080/drain_listeners?graceful", "", "Host: 127.0.0.1:15000")
		if got := seenBy(t, r); got.Server != "server" || got.Method != http.MethodPost {
			t.Errorf("answered by %q (%s), want the server", got.Server, got.Method)
		}
		if got := seenBy(t, a.client.Get(t, "http://server:8080/after-drain")); got.Server != "server" {
			t.Errorf("after the attempt, answered by %q", got.Server)
		}
	})

	t.Run("over IPv6, a Host naming the admin is answered by the dialled server", func(t *testing.T) {
		got := seenBy(t, a.client.Get(t, "http://["+a.server.IP6.String()+"]:8080/config_dump", "Host: [::1]:15000"))
		if got.Server != "server" {
			t.Errorf("answered by %q, want server", got.Server)
		}
	})

	t.Run("a Host naming another pod is answered by the dialled one", func(t *testing.T) {
		got := seenBy(t, a.client.Get(t, "http://server:8080/whoami", "Host: gateway:8080"))
		if got.Server != "server" {
			t.Errorf("answered by %q, want server (the Host named gateway)", got.Server)
		}
	})

	t.Run("a Host naming the proxy's outbound port does not loop", func(t *testing.T) {
		before := a.client.Stats(t).Sum("envoy_http_downstream_rq_total", map[string]string{"envoy_http_conn_manager_prefix": "outbound_http"})
		got := seenBy(t, a.client.Get(t, "http://server:8080/loop", "Host: 127.0.0.1:15001"))
		if got.Server != "server" {
			t.Errorf("answered by %q, want server", got.Server)
		}
		after := a.client.Stats(t).Sum("envoy_http_downstream_rq_total", map[string]string{"envoy_http_conn_manager_prefix": "outbound_http"})
		if after-before != 1 {
			t.Errorf("the client's outbound listener saw %v requests for one request, want 1", after-before)
		}
	})

	// From outside the pod: the gateway's reverse proxy keeps the caller's
	// Host and forwards to the server, through the gateway's sidecar.
	for _, req := range []struct{ method, path, host string }{
		{http.MethodGet, "/config_dump", "127.0.0.1:15000"},
		{http.MethodGet, "/config_dump", "[::1]:15000"},
		{http.MethodGet, "/config_dump", "localhost:15000"},
		{http.MethodPost, "/drain_listeners", "127.0.0.1:15000"},
		{http.MethodGet, "/loop", "127.0.0.1:15001"},
		{http.MethodGet, "/ssrf", "outsider:8080"},
	} {
		t.Run(fmt.Sprintf("%s %s with Host %s through a reverse proxy in the pod reaches only its upstream", req.method, req.path, req.host), func(t *testing.T) {
			r := a.outsider.Request(t, a.outsider.AppUID, req.method, "http://gateway:8081"+req.path, "", "Host: "+req.host)
			if got := seenBy(t, r); got.Server != "server" || got.Path != req.path {
				t.Errorf("answered by %q for %s, want the server", got.Server, got.Path)
			}
		})
	}
	t.Run("the gateway's proxy still serves after the attempts", func(t *testing.T) {
		if got := seenBy(t, a.outsider.Get(t, "http://gateway:8081/still-there")); got.Server != "server" {
			t.Errorf("answered by %q", got.Server)
		}
	})
}

// TestTheProxyIsNotADestination dials the proxy's own ports from the
// application: refused with a clear status, never forwarded to itself.
func TestTheProxyIsNotADestination(t *testing.T) {
	t.Parallel()
	a := startAdversaries(t)
	for _, url := range []string{"http://127.0.0.1:15001/", "http://localhost:15001/admin"} {
		t.Run("an HTTP request to "+url+" is refused with 403", func(t *testing.T) {
			before := a.client.Stats(t).Sum("envoy_listener_downstream_cx_total", map[string]string{"envoy_listener_address": "127.0.0.1_15001"})
			r := a.client.Get(t, url)
			if r.Status != bootstrap.SelfStatus || r.Body != bootstrap.SelfBody(15001) {
				t.Errorf("status %d %q %s, want %d %q", r.Status, r.Body, r.Error, bootstrap.SelfStatus, bootstrap.SelfBody(15001))
			}
			after := a.client.Stats(t).Sum("envoy_listener_downstream_cx_total", map[string]string{"envoy_listener_address": "127.0.0.1_15001"})
			if after-before > 1 {
				t.Errorf("one request opened %v connections to the outbound listener: a loop", after-before)
			}
		})
	}
	t.Run("a TCP connection to the outbound port is closed", func(t *testing.T) {
		if reply, err := a.client.TCP(t, "127.0.0.1:15001", "hello"); err == nil {
			t.Errorf("the outbound port echoed %q", reply)
		}
	})
	t.Run("a request to the pod's own inbound port is not answered", func(t *testing.T) {
		r := a.client.Get(t, fmt.Sprintf("http://%s:15006/", a.client.IP))
		if r.Status != 0 {
			t.Errorf("status %d %q, want the connection closed", r.Status, r.Body)
		}
	})
}

// TestAdminIsUnreachableFromTraffic looks for the admin interface on every
// TCP port the pod listens on, from another pod and from the pod's own
// application: no port serves it. Through its socket, it works.
func TestAdminIsUnreachableFromTraffic(t *testing.T) {
	t.Parallel()
	a := startAdversaries(t)
	for _, port := range a.server.Listening(t) {
		for _, from := range []string{"outsider", "server"} {
			t.Run(fmt.Sprintf("port %d does not serve /config_dump to the %s", port, from), func(t *testing.T) {
				var r = a.outsider.Get(t, fmt.Sprintf("http://server:%d/config_dump", port))
				if from == "server" {
					r = a.server.Get(t, fmt.Sprintf("http://127.0.0.1:%d/config_dump", port))
				}
				if strings.Contains(r.Body, "type.googleapis.com/envoy.admin") {
					t.Errorf("port %d served Envoy's config dump", port)
				}
			})
		}
	}
	t.Run("the admin socket serves diagnostics but not /quitquitquit", func(t *testing.T) {
		if body := a.server.Admin(t, "/config_dump"); !strings.Contains(body, "type.googleapis.com/envoy.admin") {
			t.Errorf("/config_dump through the socket is not a config dump:\n%.300s", body)
		}
		if code, _ := a.server.AdminRequest(t, http.MethodPost, "/quitquitquit"); code != http.StatusForbidden {
			t.Errorf("POST /quitquitquit through the socket = %d, want 403", code)
		}
	})
}

// TestInboundReachesTheAppAsWithoutASidecar checks who can reach the
// application and who it sees: a listener bound to 127.0.0.1 stays
// private, and the application sees the real client.
func TestInboundReachesTheAppAsWithoutASidecar(t *testing.T) {
	t.Parallel()
	a := startAdversaries(t)

	t.Run("a declared port the app binds to 127.0.0.1 only is unreachable from another pod", func(t *testing.T) {
		if reply, err := a.outsider.TCP(t, "private:6379", "PING\r\n"); err == nil {
			t.Errorf("another pod reached the loopback-only listener: %q", reply)
		}
	})
	t.Run("the app itself still reaches its loopback-only listener", func(t *testing.T) {
		if reply, err := a.private.TCP(t, "127.0.0.1:6379", "PING\r\n"); err != nil || reply != "PING\r\n" {
			t.Errorf("reply %q, %v", reply, err)
		}
	})
	t.Run("the app sees the calling pod in X-Forwarded-For", func(t *testing.T) {
		got := seenBy(t, a.outsider.Get(t, "http://server:8080/who"))
		if xff := got.Headers.Get("X-Forwarded-For"); xff != a.outsider.IP.String() {
			t.Errorf("X-Forwarded-For %q, want %s", xff, a.outsider.IP)
		}
	})
	t.Run("through both sidecars the app sees the client pod", func(t *testing.T) {
		got := seenBy(t, a.client.Get(t, "http://server:8080/who"))
		if xff := got.Headers.Get("X-Forwarded-For"); xff != a.client.IP.String() {
			t.Errorf("X-Forwarded-For %q, want %s", xff, a.client.IP)
		}
	})
	t.Run("a forged X-Forwarded-For is kept but the real client is appended last", func(t *testing.T) {
		got := seenBy(t, a.outsider.Get(t, "http://server:8080/forged", "X-Forwarded-For: 10.9.9.9"))
		parts := strings.Split(got.Headers.Get("X-Forwarded-For"), ",")
		if last := strings.TrimSpace(parts[len(parts)-1]); len(parts) != 2 || last != a.outsider.IP.String() {
			t.Errorf("X-Forwarded-For %q, want 10.9.9.9 then %s", got.Headers.Get("X-Forwarded-For"), a.outsider.IP)
		}
	})
	t.Run("a caller cannot set the server proxy's route timeout with Envoy's control headers", func(t *testing.T) {
		r := a.outsider.Get(t, "http://server:8080/slow?delay=300ms", "x-envoy-upstream-rq-timeout-ms: 1", "x-envoy-expected-rq-timeout-ms: 1")
		if got := seenBy(t, r); got.Headers.Get("X-Envoy-Upstream-Rq-Timeout-Ms") != "" {
			t.Errorf("the app received the caller's x-envoy-upstream-rq-timeout-ms")
		}
	})
	t.Run("the access log records the real client next to the identity it claims", func(t *testing.T) {
		seenBy(t, a.outsider.Get(t, "http://server:8080/claims", "x-planeless-workload: admin.kube-system", "X-Forwarded-For: 10.9.9.9"))
		l := logLine(t, a.server, func(l map[string]any) bool { return l["direction"] == "inbound" && l["path"] == "/claims" })
		if host, _, err := net.SplitHostPort(fmt.Sprint(l["client_address"])); err != nil || host != a.outsider.IP.String() {
			t.Errorf("client_address %v, want %s:<port>", l["client_address"], a.outsider.IP)
		}
		if l["source_workload"] != "admin.kube-system" {
			t.Errorf("source_workload %v: the claimed (unverified) identity should be logged as sent", l["source_workload"])
		}
	})
}

// TestNoRouteTimeoutCutsLongResponses streams for 20 s, past Envoy's
// default route timeout of 15 s, through both sidecars (the client's
// outbound and the server's inbound listener).
func TestNoRouteTimeoutCutsLongResponses(t *testing.T) {
	t.Parallel()
	a := startAdversaries(t)
	for name, query := range map[string]string{
		"server-sent events": "sse=1",
		"a slow download":    "sse=",
	} {
		t.Run(name+" for 20 s arrive whole", func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			r := a.client.Get(t, "http://server:8080/stream?chunks=5&interval=5s&"+query)
			elapsed := time.Since(start)
			if r.Status != 200 || strings.Count(r.Body, "\n") < 5 || !strings.Contains(r.Body, "5") {
				t.Errorf("status %d %s after %s, body %q; want all 5 chunks", r.Status, r.Error, elapsed, r.Body)
			}
			if elapsed < 15*time.Second {
				t.Errorf("the stream lasted %s; it must outlast 15 s to prove anything", elapsed)
			}
		})
	}
}

// TestServerFirstProtocolsDoNotWait connects to servers that speak first
// (MySQL greets its clients): the greeting arrives at once, outbound and
// inbound, instead of after the protocol sniffing gives up (1 s).
func TestServerFirstProtocolsDoNotWait(t *testing.T) {
	t.Parallel()
	a := startAdversaries(t)
	for name, c := range map[string]struct {
		from   func() (string, error)
		banner string
	}{
		"outbound, MySQL's port from the default list": {func() (string, error) {
			return a.client.Exec(t.Context(), a.client.AppUID, "testapp", "tcp-call", "-addr", "db:3306", "-banner", "-time-banner", "-msg", "x")
		}, "5.7.44-mysql ready"},
		"outbound, a port listed in planeless.dev/opaque-ports": {func() (string, error) {
			return a.gateway.Exec(t.Context(), a.gateway.AppUID, "testapp", "tcp-call", "-addr", "echo:7001", "-banner", "-time-banner", "-msg", "x")
		}, "220 echo ready"},
		"inbound, an unnamed port from the default list": {func() (string, error) {
			return a.outsider.Exec(t.Context(), a.outsider.AppUID, "testapp", "tcp-call", "-addr", "mysql:3306", "-banner", "-time-banner", "-msg", "x")
		}, "5.7.44-mysql ready"},
	} {
		t.Run(name, func(t *testing.T) {
			out, err := c.from()
			if err != nil {
				t.Fatalf("tcp-call: %v\n%s", err, out)
			}
			lines := strings.SplitN(out, "\n", 3)
			ms, err := strconv.Atoi(lines[0])
			if err != nil || len(lines) < 2 || lines[1] != c.banner {
				t.Fatalf("output %q, want the milliseconds to the banner then %q", out, c.banner)
			}
			// The sniffing would hold the greeting for sniffTimeout (1 s).
			if ms >= 500 {
				t.Errorf("the greeting took %d ms: the proxy waited for bytes the client never sends", ms)
			}
		})
	}
}

// TestMetricLabelsStayBounded sends requests with misshapen Hosts, then
// 10,000 with random well-shaped Host and identity headers, and 10,000
// answered with random identity headers: misshapen names are counted as
// (other), Envoy counts every request, and the series stay under the
// documented caps.
func TestMetricLabelsStayBounded(t *testing.T) {
	t.Parallel()
	a := startAdversaries(t)
	const n = 10000
	requests := func(p interface {
		Stats(harness.T) harness.Metrics
	}, match map[string]string) (float64, int) {
		m := p.Stats(t).Select(bootstrap.RequestsMetric, match)
		return m.Sum(bootstrap.RequestsMetric, nil), len(m)
	}
	outbound := map[string]string{"direction": "outbound"}
	other := map[string]string{"direction": "outbound", bootstrap.LabelDestination: bootstrap.OtherName}
	// served is every request of the client's outbound connection
	// manager, as Envoy itself counts them.
	served := func() float64 {
		return a.client.Stats(t).Sum("envoy_http_downstream_rq_total", map[string]string{"envoy_http_conn_manager_prefix": "outbound_http"})
	}
	flood := func(t *testing.T, n int, args ...string) {
		t.Helper()
		out, err := a.client.Exec(t.Context(), a.client.AppUID, append([]string{"testapp", "flood", "-n", strconv.Itoa(n), "-c", "16"}, args...)...)
		if err != nil || !strings.Contains(out, fmt.Sprintf(`"200": %d`, n)) {
			t.Fatalf("flood: %v\n%s", err, out)
		}
	}

	for _, c := range []struct{ name, host string }{
		{"a Host with a character no host name has", "h_{rand}.example:8080"},
		{"a Host longer than a label may be", strings.Repeat("h", bootstrap.MaxNameLength) + "{rand}.example"},
		{"a Host that starts with a hyphen", "-{rand}.example"},
	} {
		t.Run(c.name+" is counted as "+bootstrap.OtherName, func(t *testing.T) {
			const n = 500
			before, _ := requests(a.client, other)
			flood(t, n, "-host", c.host, "http://server:8080/flood")
			if after, _ := requests(a.client, other); after-before != n {
				t.Errorf("%v of %d requests counted as destination %q", after-before, n, bootstrap.OtherName)
			}
		})
	}
	t.Run("random Host and x-planeless-workload sent to a sidecar", func(t *testing.T) {
		servedBefore := served()
		outBefore, _ := requests(a.client, outbound)
		inBefore, inSeriesBefore := requests(a.server, map[string]string{"direction": "inbound"})
		flood(t, n, "-host", "h{rand}.example:{port}", "-random-header", "x-planeless-workload", "http://server:8080/flood")
		outAfter, outSeries := requests(a.client, outbound)
		inAfter, inSeries := requests(a.server, map[string]string{"direction": "inbound"})
		if got := served() - servedBefore; got != n {
			t.Errorf("the client's Envoy counted %v requests, want %d", got, n)
		}
		if inAfter-inBefore != n {
			t.Errorf("counted %v inbound requests, want %d", inAfter-inBefore, n)
		}
		if outSeries > bootstrap.MaxRequestCounters {
			t.Errorf("the client has %d outbound request series, want at most %d", outSeries, bootstrap.MaxRequestCounters)
		}
		if inSeries-inSeriesBefore > 1 {
			t.Errorf("the caller's headers grew the server's inbound series by %d, want at most 1 (one new combination of the server's own labels)", inSeries-inSeriesBefore)
		}
		t.Logf("%d requests: the client's Envoy served %v, its request metrics counted %v in %d series; server inbound counted %v, series %d -> %d",
			n, served()-servedBefore, outAfter-outBefore, outSeries, inAfter-inBefore, inSeriesBefore, inSeries)
	})
	t.Run("random x-planeless-workload answered by a server without a sidecar", func(t *testing.T) {
		servedBefore := served()
		flood(t, n, "http://plain:8080/flood?header=x-planeless-workload:w{rand}.evil")
		_, series := requests(a.client, outbound)
		if got := served() - servedBefore; got != n {
			t.Errorf("the client's Envoy counted %v requests, want %d", got, n)
		}
		if series > bootstrap.MaxRequestCounters {
			t.Errorf("the client has %d outbound request series, want at most %d", series, bootstrap.MaxRequestCounters)
		}
		t.Logf("%d requests: %d outbound request series in all", n, series)
	})
	t.Run("the proxies still serve", func(t *testing.T) {
		if got := seenBy(t, a.client.Get(t, "http://server:8080/after")); got.Server != "server" {
			t.Errorf("answered by %q", got.Server)
		}
	})
}

// TestTCPProbeFailsWhenTheAppIsDown probes the private pod's web port the
// way a kubelet does (a TCP connect from the node) at the port its
// rewritten readiness probe names: it succeeds while the application
// accepts connections and fails once it is down, though Envoy still
// accepts connections to the original port.
func TestTCPProbeFailsWhenTheAppIsDown(t *testing.T) {
	t.Parallel()
	a := startAdversaries(t)
	var web *corev1.Container
	for i, c := range a.private.Object.Spec.Containers {
		if c.Name == "web" {
			web = &a.private.Object.Spec.Containers[i]
		}
	}
	probe := web.ReadinessProbe.TCPSocket
	if probe == nil || probe.Port.IntValue() == 8080 || probe.Port.IntValue() == 0 {
		t.Fatalf("the readiness probe of web is %+v; want a TCP probe rewritten to a probe port", web.ReadinessProbe)
	}
	if web.LivenessProbe.HTTPGet == nil || web.LivenessProbe.HTTPGet.Port.IntValue() != 8080 {
		t.Errorf("the HTTP liveness probe changed: %+v", web.LivenessProbe)
	}
	kubelet := func(port int) error {
		c, err := net.DialTimeout("tcp", net.JoinHostPort(a.private.IP.String(), strconv.Itoa(port)), 2*time.Second)
		if err == nil {
			c.Close()
		}
		return err
	}
	if err := kubelet(probe.Port.IntValue()); err != nil {
		t.Fatalf("the probe fails while the app runs: %v", err)
	}
	a.private.StopApp(t, "web")
	if err := kubelet(probe.Port.IntValue()); err == nil {
		t.Errorf("the probe still passes with the app down")
	}
	if err := kubelet(8080); err != nil {
		t.Errorf("connecting to 8080 itself failed (%v); Envoy accepting it is why the probe needs its own port", err)
	}
}
