package bootstrap_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	corev1 "k8s.io/api/core/v1"

	"github.com/planeless/planeless/bootstrap"
	"github.com/planeless/planeless/internal/pbjson"
	"github.com/planeless/planeless/proxy"
)

// assertRenderIsProtojson checks that Render prints for s what protojson
// prints for Build's bootstrap: the same JSON value, in fact the same
// bytes once protojson's whitespace is compacted, as valid compact JSON
// that protojson reads back into Build's bootstrap. It checks the same of
// the printer on Build's eagerly packed bootstrap, whose Anys it must
// unmarshal itself.
func assertRenderIsProtojson(t *testing.T, s *proxy.Spec) {
	t.Helper()
	built, err := bootstrap.Build(s)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	rendered, err := bootstrap.Render(s)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	reference, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(built)
	if err != nil {
		t.Fatalf("protojson: %v", err)
	}
	var want bytes.Buffer
	if err := json.Compact(&want, reference); err != nil {
		t.Fatal(err)
	}
	fromPacked, err := pbjson.Printer{}.Append(nil, built)
	if err != nil {
		t.Fatalf("printing Build's bootstrap: %v", err)
	}
	for name, got := range map[string][]byte{"Render": rendered, "the printer on Build's bootstrap": fromPacked} {
		if !json.Valid(got) || bytes.ContainsAny(got, "\n\t") {
			t.Fatalf("%s is not compact JSON:\n%.300s", name, got)
		}
		var gotValue, wantValue any
		if err := json.Unmarshal(got, &gotValue); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(reference, &wantValue); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(gotValue, wantValue) {
			t.Fatalf("%s prints another bootstrap than protojson:\n got %s\nwant %s", name, got, want.Bytes())
		}
		if !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("%s prints the bootstrap in other bytes than protojson:\n got %s\nwant %s", name, got, want.Bytes())
		}
		var back bootstrapv3.Bootstrap
		if err := protojson.Unmarshal(got, &back); err != nil {
			t.Fatalf("protojson cannot read what %s prints: %v", name, err)
		}
		if !proto.Equal(&back, built) {
			t.Fatalf("protojson reads another bootstrap back from what %s prints", name)
		}
	}
}

func TestRenderPrintsWhatProtojsonPrintsForEveryGoldenCase(t *testing.T) {
	for name, p := range cases {
		t.Run(name, func(t *testing.T) {
			assertRenderIsProtojson(t, specOf(t, p))
		})
	}
}

// randomPod returns a pod with a random mix of ports and of the
// annotations that shape the bootstrap (the fuzz test below sends the
// printer the characters JSON escapes).
func randomPod(r *rand.Rand) *corev1.Pod {
	pick := func(options ...string) string { return options[r.IntN(len(options))] }
	var ports []string
	for range r.IntN(12) {
		ports = append(ports, fmt.Sprintf("%d:%s", 1024+r.IntN(60000), pick("http", "grpc", "tcp", "auto")))
	}
	opts := []podOption{
		withLabel("app", pick("cart", "web", "a-b.c_d", "x")),
		withLabel("version", pick("v1", "2.3.0", "")),
		withPort(pick("http", "grpc", "", "tcp-db"), int32(1024+r.IntN(60000))),
	}
	if len(ports) > 0 {
		opts = append(opts, withAnnotation(proxy.Prefix+"ports", strings.Join(ports, ",")))
	}
	maybe := func(key string, values ...string) {
		if r.IntN(2) == 0 {
			opts = append(opts, withAnnotation(proxy.Prefix+key, pick(values...)))
		}
	}
	egress := pick("true", "false")
	opts = append(opts, withAnnotation(proxy.Prefix+"egress", egress))
	maybe("ipv6", "true", "false")
	maybe("access-log", "json", "text", "off")
	maybe("access-log-request-headers", "x-a,X-Customer-Id", "x-tenant")
	maybe("access-log-response-headers", "x-cache")
	maybe("timeout", "10s", "1500ms", "0.25s")
	if r.IntN(2) == 0 {
		opts = append(opts, withAnnotation(proxy.Prefix+"tracing", pick("zipkin", "otlp")),
			withAnnotation(proxy.Prefix+"tracing-endpoint", pick("zipkin.observability:9411", "[fd00::7]:4317")))
		maybe("tracing-sampling", "100", "0.5", "1")
	}
	maybe("routes", istio101Routes, "middleware: {retries: {attempts: 3}}", "web:8080: {timeout: 2s}")
	if egress == "true" && r.IntN(2) == 0 {
		opts = append(opts, withAnnotation(proxy.Prefix+"egress-policy", "allow-list"),
			withAnnotation(proxy.Prefix+"egress-allow", pick("api.github.com, *.googleapis.com, 10.0.0.0/8:5432", "registry.example.com:443")))
	}
	maybe("opaque-ports", "3306", "5432,6379")
	return pod(pick("shop", "ns-1"), pick("cart-7c9d8f6b5-", "w-"), opts...)
}

// Random pods: the printer sees whatever combination of listeners,
// filters and well-known types the annotations produce, not only the
// goldens'.
func TestRenderPrintsWhatProtojsonPrintsForRandomPods(t *testing.T) {
	r := rand.New(rand.NewPCG(14, 2026))
	var rendered int
	for i := range 60 {
		p := randomPod(r)
		s, _, err := proxy.FromPod(p, proxy.DefaultDefaults())
		if err != nil {
			continue // a combination the annotations refuse
		}
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			if _, err := bootstrap.Build(s); err != nil {
				if _, renderErr := bootstrap.Render(s); renderErr == nil {
					t.Fatalf("Build refuses the spec (%v) but Render renders it", err)
				}
				return
			}
			rendered++
			assertRenderIsProtojson(t, s)
		})
	}
	if rendered < 30 {
		t.Errorf("only %d of 60 random pods were rendered; the generator is broken", rendered)
	}
}

// FuzzRenderPrintsWhatProtojsonPrints renders pods whose workload names
// and headers are arbitrary strings: the printer's escaping sees what the
// fuzzer finds. Render must refuse exactly what Build refuses.
func FuzzRenderPrintsWhatProtojsonPrints(f *testing.F) {
	f.Add("cart", "v1", "x-tenant", "8080:http,9090:grpc")
	f.Add("a\"b\\c", "\u2028", "x-\x01", "1:tcp")
	f.Add("é✓", "", "", "")
	f.Fuzz(func(t *testing.T, app, version, header, ports string) {
		s := &proxy.Spec{
			Workload: proxy.Workload{Namespace: "ns", Name: "p", App: app, Version: version},
			Egress:   true, IPv6: true,
			Proxy: proxy.Sidecar{Ports: proxy.DefaultDefaults().Ports},
		}
		for i, field := range strings.Split(ports, ",") {
			protocol := proxy.ProtocolHTTP
			if strings.HasSuffix(field, "grpc") {
				protocol = proxy.ProtocolGRPC
			} else if strings.HasSuffix(field, "tcp") {
				protocol = proxy.ProtocolTCP
			}
			s.Inbound = append(s.Inbound, proxy.Port{Number: uint16(8000 + i), Protocol: protocol})
		}
		if header != "" {
			s.AccessLog.RequestHeaders = []string{header}
		}
		_, buildErr := bootstrap.Build(s)
		_, renderErr := bootstrap.Render(s)
		if (buildErr == nil) != (renderErr == nil) {
			t.Fatalf("Build error %v, Render error %v", buildErr, renderErr)
		}
		if buildErr != nil {
			return
		}
		assertRenderIsProtojson(t, s)
	})
}
