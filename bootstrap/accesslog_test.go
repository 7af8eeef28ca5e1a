package bootstrap_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/planeless/planeless/bootstrap"
	"github.com/planeless/planeless/proxy"
)

// TestAccessLogCarriesAnnotatedHeaders sends a request with a customer id
// through a real Envoy whose pod asks for that request header and a
// response header in its access log.
func TestAccessLogCarriesAnnotatedHeaders(t *testing.T) {
	t.Parallel()
	app := statusApp(t)
	d, e := meshEnvoy(t, app,
		withAnnotation(proxy.Prefix+"access-log-request-headers", "X-Customer-Id"),
		withAnnotation(proxy.Prefix+"access-log-response-headers", "X-Planeless-Workload"))
	dest := fmt.Sprintf("127.0.0.2:%d", app)

	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/books?isbn=42", d.Ports.Outbound), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = dest
	req.Header.Set("X-Customer-Id", "acme")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()

	for _, dir := range []string{"outbound", "inbound"} {
		t.Run("the "+dir+" line has the extra fields and every stable field", func(t *testing.T) {
			l := waitForLogLine(t, e, func(l map[string]any) bool { return l["direction"] == dir })
			for field, want := range map[string]any{
				"req_x_customer_id": "acme", "resp_x_planeless_workload": "cart.shop",
				"path": "/books?isbn=42", "method": "GET", "authority": dest, "response_code": float64(200),
				"source_workload": "cart.shop", "destination_workload": "cart.shop", "pod": testPodName,
			} {
				if l[field] != want {
					t.Errorf("field %s = %#v, want %#v", field, l[field], want)
				}
			}
			for _, f := range bootstrap.AccessLogFields {
				if _, ok := l[f.Name]; !ok {
					t.Errorf("no field %s", f.Name)
				}
			}
			if len(l) != len(bootstrap.AccessLogFields)+2 {
				t.Errorf("%d fields, want the %d stable ones and 2 extra: %v", len(l), len(bootstrap.AccessLogFields), l)
			}
		})
	}
}

// TestAccessLogFormats runs the real Envoy with each format and reads what
// it prints for one request.
func TestAccessLogFormats(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		format string
		check  func(t *testing.T, e *envoyProcess)
	}{
		"text writes the same fields as key=value pairs, in order": {
			format: "text",
			check: func(t *testing.T, e *envoyProcess) {
				// The inbound side finishes first; wait for the outbound line.
				var line string
				for deadline := time.Now().Add(30 * time.Second); line == "" && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
					for l := range strings.Lines(e.stdout.String()) {
						if strings.Contains(l, " direction=outbound ") {
							line = strings.TrimSpace(l)
						}
					}
				}
				if line == "" {
					t.Fatalf("no outbound line in %q", e.stdout.String())
				}
				var keys []string
				for _, pair := range strings.Fields(line) {
					k, _, ok := strings.Cut(pair, "=")
					if !ok {
						t.Fatalf("%q is not key=value in %q", pair, line)
					}
					keys = append(keys, k)
				}
				var want []string
				for _, f := range bootstrap.AccessLogFields {
					want = append(want, f.Name)
				}
				if strings.Join(keys, " ") != strings.Join(want, " ") {
					t.Errorf("keys %v, want %v", keys, want)
				}
				for _, pair := range []string{"direction=outbound", "method=POST", "response_code=200", "path=/hello", "pod=" + testPodName} {
					if !strings.Contains(" "+line+" ", " "+pair+" ") {
						t.Errorf("no %s in %q", pair, line)
					}
				}
			},
		},
		"off writes nothing": {
			format: "off",
			check: func(t *testing.T, e *envoyProcess) {
				// Both sides counted the request, so both would have logged
				// it by now; give stdout a few flush intervals.
				time.Sleep(time.Second)
				if out := e.stdout.String(); out != "" {
					t.Errorf("Envoy printed %q", out)
				}
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			app := statusApp(t)
			d, e := meshEnvoy(t, app, withAnnotation(proxy.Prefix+"access-log", tc.format))
			send(t, http.DefaultClient, d.Ports.Outbound, fmt.Sprintf("127.0.0.2:%d", app), "/hello", "text/plain")
			// The request is counted once both sides logged it.
			deadline := time.Now().Add(30 * time.Second)
			for scrape(t, d.Ports.Stats).Sum(bootstrap.RequestsMetric, nil) < 2 && time.Now().Before(deadline) {
				time.Sleep(100 * time.Millisecond)
			}
			tc.check(t, e)
		})
	}
}
