package bootstrap_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"sigs.k8s.io/yaml"

	"github.com/planeless/planeless/bootstrap"
	"github.com/planeless/planeless/proxy"
	"github.com/planeless/planeless/tests/harness"
)

// statusApp answers plain HTTP with the status of ?status= (200 when
// absent) and gRPC (h2c) with HTTP 200 and the grpc-status of ?grpc= in
// the trailers.
func statusApp(t *testing.T) uint16 {
	t.Helper()
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Content-Type") == "application/grpc" {
				w.Header().Set("Content-Type", "application/grpc")
				w.Header().Set("Trailer", "Grpc-Status")
				w.WriteHeader(http.StatusOK)
				w.Header().Set("Grpc-Status", r.URL.Query().Get("grpc"))
				return
			}
			code := http.StatusOK
			if n, err := strconv.Atoi(r.URL.Query().Get("status")); err == nil {
				code = n
			}
			w.WriteHeader(code)
		}),
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

// send makes one request through the outbound listener to host and
// returns the status code.
func send(t *testing.T, c *http.Client, outboundPort uint16, host, pathAndQuery, contentType string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, fmt.Sprintf("http://127.0.0.1:%d%s", outboundPort, pathAndQuery), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	req.Header.Set("Content-Type", contentType)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("POST %s%s: %v", host, pathAndQuery, err)
	}
	// Read to the end before closing: a gRPC answer's status comes in its
	// trailers, and closing early resets the stream (Envoy logs DR and a
	// status the server never sent).
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}

// meshEnvoy runs one real Envoy with the rendered bootstrap of a pod whose
// app listens on appPort, its inbound listener moved to 127.0.0.2:appPort
// (see TestInboundChainsCarryTrafficByProtocol). A request sent to its
// outbound listener with Host 127.0.0.2:appPort goes out through the
// forward proxy and comes back in through the inbound listener: one
// request, an outbound and an inbound entry, like a call between two
// injected pods.
func meshEnvoy(t *testing.T, appPort uint16, opts ...podOption) (proxy.Defaults, *envoyProcess) {
	t.Helper()
	d := defaultsWithFreePorts(t)
	opts = append([]podOption{withLabel("app", "cart"), withLabel("version", "v1"),
		withAnnotation(proxy.Prefix+"ports", fmt.Sprintf("%d:http", appPort))}, opts...)
	s, _, err := proxy.FromPod(pod("shop", "cart-7c9d8f6b5-", opts...), d)
	if err != nil {
		t.Fatal(err)
	}
	b, err := buildWithInboundOn(t, s, "127.0.0.2", appPort)
	if err != nil {
		t.Fatal(err)
	}
	return d, startEnvoy(t, b, d.Ports.Stats)
}

// buildWithInboundOn builds the bootstrap with the inbound listener bound
// to ip:appPort only, so that connections to it have the app port as their
// original destination, as after iptables REDIRECT. An empty ip keeps the
// bootstrap as built.
func buildWithInboundOn(t *testing.T, s *proxy.Spec, ip string, appPort uint16) (*bootstrapv3.Bootstrap, error) {
	t.Helper()
	b, err := bootstrap.Build(s)
	if err != nil || ip == "" {
		return b, err
	}
	in := listenerNamed(t, b.GetStaticResources().GetListeners(), "inbound")
	in.Address, in.AdditionalAddresses = socketAddr(ip, appPort), []*listenerv3.AdditionalAddress(nil)
	return b, nil
}

func scrape(t *testing.T, statsPort uint16) harness.Metrics {
	t.Helper()
	_, text := get(t, http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d%s", statsPort, bootstrap.PrometheusPath))
	m, err := harness.ParseMetrics(text)
	if err != nil {
		t.Fatalf("parsing /stats/prometheus: %v", err)
	}
	return m
}

// TestPerDestinationMetrics sends a known mix of requests through the real
// Envoy and reads the metrics the docs, the dashboard and the alerts are
// built on, with their exact names and labels.
func TestPerDestinationMetrics(t *testing.T) {
	t.Parallel()
	app := statusApp(t)
	d, _ := meshEnvoy(t, app)
	dest := fmt.Sprintf("127.0.0.2:%d", app)

	for range 3 {
		send(t, http.DefaultClient, d.Ports.Outbound, dest, "/ok", "text/plain")
	}
	if code := send(t, http.DefaultClient, d.Ports.Outbound, dest, "/fail?status=503", "text/plain"); code != 503 {
		t.Fatalf("status %d, want 503", code)
	}
	send(t, h2c(), d.Ports.Outbound, dest, "/svc.Echo/Say?grpc=0", "application/grpc")
	send(t, h2c(), d.Ports.Outbound, dest, "/svc.Echo/Say?grpc=14", "application/grpc")
	send(t, h2c(), d.Ports.Outbound, dest, "/svc.Echo/Say?grpc=14", "application/grpc")

	// Counters are visible at once; histograms after Envoy's stats flush
	// (every 5 s, later on a loaded machine).
	var m harness.Metrics
	deadline := time.Now().Add(60 * time.Second)
	for {
		m = scrape(t, d.Ports.Stats)
		if m.Sum(bootstrap.RequestDurationMetric+"_count", map[string]string{"direction": "inbound"}) >= 7 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}

	self := map[string]string{"namespace": "shop", "app": "cart", "version": "v1"}
	with := func(labels ...string) map[string]string {
		out := map[string]string{}
		for k, v := range self {
			out[k] = v
		}
		for i := 0; i+1 < len(labels); i += 2 {
			out[labels[i]] = labels[i+1]
		}
		return out
	}
	tests := map[string]struct {
		metric string
		labels map[string]string
		want   float64
	}{
		"outbound requests are counted per destination": {
			bootstrap.RequestsMetric, with("direction", "outbound", "destination", dest), 7,
		},
		"outbound HTTP errors are counted per destination and status": {
			bootstrap.RequestsMetric, with("direction", "outbound", "destination", dest, "response_code", "503"), 1,
		},
		"outbound gRPC status codes are counted per destination": {
			bootstrap.RequestsMetric, with("direction", "outbound", "destination", dest, "grpc_status", "14", "response_code", "200"), 2,
		},
		"the outbound side names the workload that answered": {
			bootstrap.RequestsMetric, with("direction", "outbound", "source_workload", "cart.shop", "destination_workload", "cart.shop"), 7,
		},
		"the inbound side names the workload that called": {
			bootstrap.RequestsMetric, with("direction", "inbound", "source_workload", "cart.shop", "destination_workload", "cart.shop", "destination", dest), 7,
		},
		"outbound latency is observed per destination": {
			bootstrap.RequestDurationMetric + "_count", with("direction", "outbound", "destination", dest), 7,
		},
		"inbound latency is observed": {
			bootstrap.RequestDurationMetric + "_count", with("direction", "inbound"), 7,
		},
		"the latency histogram has buckets": {
			bootstrap.RequestDurationMetric + "_bucket", with("direction", "outbound", "destination", dest, "le", "+Inf"), 7,
		},
		"the destination's own cluster counts its requests, its host and port as labels": {
			"envoy_cluster_upstream_rq_total", with("destination_host", "127.0.0.2", "destination_port", strconv.Itoa(int(app))), 7,
		},
		"the gRPC stats filter counts codes per inbound cluster": {
			"envoy_cluster_grpc", with("envoy_cluster_name", fmt.Sprintf("inbound|%d|grpc", app), "grpc_status", "14"), 2,
		},
		"the gRPC stats filter counts codes on the outbound side": {
			"envoy_cluster_grpc", with("envoy_cluster_name", "outbound|http", "grpc_status", "0"), 1,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := m.Sum(tc.metric, tc.labels); got != tc.want {
				t.Errorf("sum of %s%v = %v, want %v; series:\n%v", tc.metric, tc.labels, got, tc.want, m.Select(tc.metric, nil))
			}
		})
	}
	t.Run("every metric carries the pod's namespace, app and version", func(t *testing.T) {
		if len(m) < 100 {
			t.Fatalf("only %d samples", len(m))
		}
		for _, sample := range m {
			// Envoy creates these few process-wide stats before it reads
			// stats_config, so they have no tags.
			if strings.HasPrefix(sample.Name, "envoy_filesystem_") || strings.HasPrefix(sample.Name, "envoy_server_stats_overflow_") {
				continue
			}
			for k, v := range self {
				if sample.Labels[k] != v {
					t.Errorf("%s%v has %s=%q, want %q", sample.Name, sample.Labels, k, sample.Labels[k], v)
					break
				}
			}
		}
	})
	t.Run("a destination's sub-cluster gets no response codes: the router charges them to the forward proxy's parent", func(t *testing.T) {
		// Why the request metrics exist: if this starts failing, Envoy's
		// own cluster stats became per destination.
		if got := m.Sum("envoy_cluster_upstream_rq_xx", map[string]string{"destination_host": "127.0.0.2"}); got != 0 {
			t.Errorf("sub-cluster upstream_rq_xx = %v", got)
		}
		if got := m.Sum("envoy_cluster_upstream_rq_xx", map[string]string{"envoy_cluster_name": "outbound|http"}); got != 7 {
			t.Errorf("outbound|http upstream_rq_xx = %v, want 7", got)
		}
	})
}

// TestRequestMetricsBoundDropsSeriesNotRequests lowers the request
// counters' bound to 3 in the rendered bootstrap and sends requests that
// make 6 label combinations: all 6 are served, 3 series exist.
func TestRequestMetricsBoundDropsSeriesNotRequests(t *testing.T) {
	t.Parallel()
	app := statusApp(t)
	d := envoyWithLoweredBound(t, "max_counters", bootstrap.MaxRequestCounters, 3)

	for code := 200; code < 206; code++ {
		if got := send(t, http.DefaultClient, d.Ports.Outbound, fmt.Sprintf("127.0.0.1:%d", app), fmt.Sprintf("/x?status=%d", code), "text/plain"); got != code {
			t.Errorf("asked for %d, got %d", code, got)
		}
	}
	if series := scrape(t, d.Ports.Stats).Select(bootstrap.RequestsMetric, nil); len(series) != 3 {
		t.Errorf("%d series, want 3: %v", len(series), series)
	}
}

// TestDestinationBoundRefusesOneMoreDestination lowers the forward proxy's
// destination bound to 1 in the rendered bootstrap: a second destination
// gets 503 while the first is alive, as docs/metrics.md says.
func TestDestinationBoundRefusesOneMoreDestination(t *testing.T) {
	t.Parallel()
	app := statusApp(t)
	d := envoyWithLoweredBound(t, "max_sub_clusters", bootstrap.MaxDestinations, 1)

	if got := send(t, http.DefaultClient, d.Ports.Outbound, fmt.Sprintf("127.0.0.1:%d", app), "/", "text/plain"); got != 200 {
		t.Errorf("the first destination answered %d, want 200", got)
	}
	if got := send(t, http.DefaultClient, d.Ports.Outbound, fmt.Sprintf("localhost:%d", app), "/", "text/plain"); got != 503 {
		t.Errorf("a second destination answered %d, want 503", got)
	}
}

// envoyWithLoweredBound starts a real Envoy with the rendered bootstrap of a
// pod, its bound field (which must be there with value shipped) set to
// lowered, and returns the pod's defaults (its ports).
func envoyWithLoweredBound(t *testing.T, field string, shipped, lowered int) proxy.Defaults {
	t.Helper()
	d := defaultsWithFreePorts(t)
	s, _, err := proxy.FromPod(pod("shop", "cart-7c9d8f6b5-", withLabel("app", "cart")), d)
	if err != nil {
		t.Fatal(err)
	}
	y, err := bootstrap.RenderYAML(s)
	if err != nil {
		t.Fatal(err)
	}
	bound := fmt.Sprintf("%s: %d\n", field, shipped)
	if !strings.Contains(string(y), bound) {
		t.Fatalf("the bootstrap has no %q", bound)
	}
	js, err := yaml.YAMLToJSON([]byte(strings.ReplaceAll(string(y), bound, fmt.Sprintf("%s: %d\n", field, lowered))))
	if err != nil {
		t.Fatal(err)
	}
	b := &bootstrapv3.Bootstrap{}
	if err := protojson.Unmarshal(js, b); err != nil {
		t.Fatal(err)
	}
	startEnvoy(t, b, d.Ports.Stats)
	return d
}
