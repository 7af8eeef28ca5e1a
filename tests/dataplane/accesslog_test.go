package dataplane

import (
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/planeless/planeless/bootstrap"
	"github.com/planeless/planeless/tests/harness"
)

// startLogged starts the pods named of testdata/accesslog.yaml, each with
// a REST app on 8080.
func startLogged(t *testing.T, names ...string) map[string]*harness.Pod {
	t.Helper()
	h := harness.New(t)
	pods := map[string]*harness.Pod{}
	for _, p := range harness.Inject(t, filepath.Join("testdata", "accesslog.yaml")) {
		if slices.Contains(names, p.Name) {
			pods[p.Name] = h.Start(t, p, harness.PodOptions{Apps: map[string][]string{"web": {"rest", "-listen", ":8080", "-name", p.Name}}})
		}
	}
	return pods
}

// TestAccessLogCarriesAnnotatedHeaders sends a request with a customer id
// from a client to a server whose pods both ask for that request header
// and a response header in their access logs.
func TestAccessLogCarriesAnnotatedHeaders(t *testing.T) {
	t.Parallel()
	pods := startLogged(t, "client", "server")
	client := pods["client"]
	if r := client.Get(t, "http://server:8080/books?isbn=42", "X-Customer-Id: acme"); r.Status != 200 {
		t.Fatalf("status %d %s", r.Status, r.Error)
	}

	lines := map[string]map[string]any{}
	for _, side := range []struct{ pod, direction string }{{"client", "outbound"}, {"server", "inbound"}} {
		t.Run("the "+side.direction+" line has the extra fields and every stable field", func(t *testing.T) {
			l := logLine(t, pods[side.pod], func(l map[string]any) bool {
				return l["direction"] == side.direction && l["path"] == "/books?isbn=42"
			})
			lines[side.direction] = l
			for field, want := range map[string]any{
				"req_x_customer_id": "acme", "resp_x_planeless_workload": "server.shop",
				"path": "/books?isbn=42", "method": "GET", "authority": "server:8080", "response_code": float64(200),
				"source_workload": "client.shop", "destination_workload": "server.shop", "pod": side.pod,
			} {
				if l[field] != want {
					t.Errorf("field %s = %#v, want %#v", field, l[field], want)
				}
			}
			// Both sides see the connection the client's app opened: the
			// client pod's address.
			if host, _, err := net.SplitHostPort(fmt.Sprint(l["client_address"])); err != nil || host != client.IP.String() {
				t.Errorf("client_address %v, want %s:<port>", l["client_address"], client.IP)
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
	t.Run("both lines carry the same request id", func(t *testing.T) {
		out, in := lines["outbound"]["request_id"], lines["inbound"]["request_id"]
		if out == nil || out != in {
			t.Errorf("request_id %v outbound, %v inbound", out, in)
		}
	})
}

// TestAccessLogFormats runs a pod logging in the text format and one
// logging nothing, each calling the other, so each sidecar sees one
// request in each direction.
func TestAccessLogFormats(t *testing.T) {
	t.Parallel()
	pods := startLogged(t, "text", "off")
	text, off := pods["text"], pods["off"]
	for _, call := range []struct {
		from *harness.Pod
		url  string
	}{{text, "http://off:8080/hello"}, {off, "http://text:8080/hello"}} {
		if r := call.from.Get(t, call.url); r.Status != 200 {
			t.Fatalf("%s: GET %s: status %d %s", call.from.Name, call.url, r.Status, r.Error)
		}
	}

	for _, direction := range []string{"outbound", "inbound"} {
		t.Run("text writes the same fields as key=value pairs, in order, "+direction, func(t *testing.T) {
			line := textLine(t, text, direction)
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
			for _, pair := range []string{"direction=" + direction, "method=GET", "response_code=200", "path=/hello", "pod=text"} {
				if !strings.Contains(" "+line+" ", " "+pair+" ") {
					t.Errorf("no %s in %q", pair, line)
				}
			}
		})
	}
	t.Run("off writes nothing", func(t *testing.T) {
		// The request metrics come from an access logger too: once both
		// requests are counted, a line would have been written, and is
		// out after the next flush of Envoy's files.
		deadline := time.Now().Add(30 * time.Second)
		for off.Stats(t).Sum(bootstrap.RequestsMetric, nil) < 2 && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		if got := off.Stats(t).Sum(bootstrap.RequestsMetric, nil); got != 2 {
			t.Fatalf("off counted %v requests, want 2 (one each way)", got)
		}
		time.Sleep(2 * fileFlushInterval(t, off.Object))
		if out := off.EnvoyStdout(t); out != "" {
			t.Errorf("Envoy printed %q", out)
		}
	})
}

// textLine waits up to 10 s for a text access log line of pod's for
// direction, and returns it.
func textLine(t *testing.T, pod *harness.Pod, direction string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for line := range strings.Lines(pod.EnvoyStdout(t)) {
			if strings.Contains(line, " direction="+direction+" ") {
				return strings.TrimSpace(line)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("pod %s logged no %s line in 10 s:\n%s", pod.Name, direction, pod.EnvoyStdout(t))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// fileFlushInterval is how often the pod's Envoy writes out its access
// log: the proxy container's --file-flush-interval-msec (Envoy's default,
// 10 s, when it has none).
func fileFlushInterval(t *testing.T, pod *corev1.Pod) time.Duration {
	t.Helper()
	for _, c := range slices.Concat(pod.Spec.InitContainers, pod.Spec.Containers) {
		if c.Name != harness.ProxyContainerName {
			continue
		}
		for i, arg := range c.Args {
			if arg == "--file-flush-interval-msec" && i+1 < len(c.Args) {
				ms, err := strconv.Atoi(c.Args[i+1])
				if err != nil {
					t.Fatalf("--file-flush-interval-msec %q: %v", c.Args[i+1], err)
				}
				return time.Duration(ms) * time.Millisecond
			}
		}
		return 10 * time.Second
	}
	t.Fatalf("pod %s has no %s container", pod.Name, harness.ProxyContainerName)
	return 0
}
