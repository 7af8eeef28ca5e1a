package proxy

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	_ "github.com/planeless/planeless/tests/golden"
	"github.com/planeless/planeless/tests/pods"
)

// testPod is the pod web-1 of the shop namespace, version v2.
func testPod(opts ...pods.Option) *corev1.Pod {
	return pods.New("web-1", append([]pods.Option{pods.Namespace("shop"), pods.Label("version", "v2")}, opts...)...)
}

func TestAnnotationValues(t *testing.T) {
	tests := map[string]struct {
		key, value string
		check      func(t *testing.T, s *Spec)
		wantErr    string
	}{
		"ports with protocols are sorted by number": {
			key: Prefix + "ports", value: "9090:grpc, 8080:http,7000",
			check: func(t *testing.T, s *Spec) {
				want := []Port{{7000, ProtocolAuto, false}, {8080, ProtocolHTTP, true}, {9090, ProtocolGRPC, true}}
				if diff := cmp.Diff(want, s.Inbound); diff != "" {
					t.Errorf("inbound (-want +got):\n%s", diff)
				}
			},
		},
		"ports accept every protocol in any case": {
			key: Prefix + "ports", value: "1:AUTO,2:http,3:grpc,4:tcp",
			check: func(t *testing.T, s *Spec) {
				if got := s.Inbound[0].Protocol; got != ProtocolAuto {
					t.Errorf("protocol = %q, want auto", got)
				}
				if got := s.Inbound[3].Protocol; got != ProtocolTCP {
					t.Errorf("protocol = %q, want tcp", got)
				}
			},
		},
		"ports refuse an unknown protocol": {key: Prefix + "ports", value: "8080:quic", wantErr: `protocol "quic" of port 8080 is unknown`},
		"ports refuse a port out of range": {key: Prefix + "ports", value: "80800:http", wantErr: "port 80800 is out of range"},
		"ports refuse port zero":           {key: Prefix + "ports", value: "0", wantErr: "port 0 is out of range"},
		"ports refuse a name":              {key: Prefix + "ports", value: "http", wantErr: `port "http" is not a number`},
		"ports refuse a port listed twice": {key: Prefix + "ports", value: "80,80:grpc", wantErr: "port 80 is listed twice"},
		"ports refuse an empty list":       {key: Prefix + "ports", value: " , ", wantErr: "no port given"},
		"exclude-inbound-ports drops a port": {
			key: Prefix + "exclude-inbound-ports", value: "8080",
			check: func(t *testing.T, s *Spec) {
				if len(s.Inbound) != 0 {
					t.Errorf("inbound = %v, want none", s.Inbound)
				}
			},
		},
		"exclude-inbound-ports refuses garbage": {key: Prefix + "exclude-inbound-ports", value: "80,x", wantErr: `port "x" is not a number`},
		"exclude-inbound-cidrs are masked and sorted": {
			key: Prefix + "exclude-inbound-cidrs", value: "10.1.2.3/8, 192.168.0.1",
			check: func(t *testing.T, s *Spec) {
				want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.0.1/32")}
				if diff := cmp.Diff(want, s.ExcludeInboundCIDRs, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
					t.Errorf("cidrs (-want +got):\n%s", diff)
				}
			},
		},
		"exclude-outbound-cidrs take IPv6": {
			key: Prefix + "exclude-outbound-cidrs", value: "fd00::/8,::1",
			check: func(t *testing.T, s *Spec) {
				if len(s.ExcludeOutboundCIDRs) != 2 || !s.ExcludeOutboundCIDRs[0].Addr().Is6() {
					t.Errorf("cidrs = %v", s.ExcludeOutboundCIDRs)
				}
			},
		},
		"exclude-outbound-cidrs refuse garbage": {key: Prefix + "exclude-outbound-cidrs", value: "10.0.0.0/33", wantErr: `"10.0.0.0/33" is neither a CIDR nor an IP address`},
		"opaque-ports add ports and ranges to the defaults, merged": {
			key: Prefix + "opaque-ports", value: "8000-8010, 8005, 8011,3306",
			check: func(t *testing.T, s *Spec) {
				for _, port := range []uint16{3306, 8000, 8005, 8011, 25, 27017} {
					if !InRanges(s.OpaquePorts, port) {
						t.Errorf("port %d is not opaque in %v", port, s.OpaquePorts)
					}
				}
				if InRanges(s.OpaquePorts, 8012) || InRanges(s.OpaquePorts, 8080) {
					t.Errorf("ports 8012 and 8080 are opaque in %v", s.OpaquePorts)
				}
				if !slices.Contains(s.OpaquePorts, PortRange{8000, 8011}) {
					t.Errorf("8000-8010, 8005 and 8011 are not merged into 8000-8011: %v", s.OpaquePorts)
				}
			},
		},
		"opaque-ports refuse a range that ends before it starts": {key: Prefix + "opaque-ports", value: "9000-8000", wantErr: `port range "9000-8000" ends before it starts`},
		"opaque-ports refuse garbage":                            {key: Prefix + "opaque-ports", value: "mysql", wantErr: `port "mysql" is not a number`},
		"exclude-outbound-ports are sorted and unique": {
			key: Prefix + "exclude-outbound-ports", value: "6379,5432,6379",
			check: func(t *testing.T, s *Spec) {
				if diff := cmp.Diff([]uint16{5432, 6379}, s.ExcludeOutboundPorts); diff != "" {
					t.Errorf("ports (-want +got):\n%s", diff)
				}
			},
		},
		"egress false turns outbound capture off": {
			key: Prefix + "egress", value: "false",
			check: func(t *testing.T, s *Spec) {
				if s.Egress {
					t.Error("egress is still on")
				}
			},
		},
		"egress refuses yes":            {key: Prefix + "egress", value: "yes", wantErr: "not a boolean"},
		"ipv6 disabled turns IPv6 off":  {key: Prefix + "ipv6", value: "disabled", check: func(t *testing.T, s *Spec) { assert(t, !s.IPv6, "ipv6 is still on") }},
		"proxy-image sets the image":    {key: Prefix + "proxy-image", value: "envoy:dev", check: func(t *testing.T, s *Spec) { assert(t, s.Proxy.Image == "envoy:dev", "image not set") }},
		"proxy-image refuses spaces":    {key: Prefix + "proxy-image", value: "envoy dev", wantErr: "image must be"},
		"proxy-cpu sets the request":    {key: Prefix + "proxy-cpu", value: "250m", check: hasQuantity(true, corev1.ResourceCPU, "250m")},
		"proxy-memory sets the request": {key: Prefix + "proxy-memory", value: "128Mi", check: hasQuantity(true, corev1.ResourceMemory, "128Mi")},
		"proxy-memory-limit sets the limit": {
			key: Prefix + "proxy-memory-limit", value: "1Gi", check: hasQuantity(false, corev1.ResourceMemory, "1Gi"),
		},
		"proxy-cpu-limit sets the limit and the concurrency": {
			key: Prefix + "proxy-cpu-limit", value: "1500m",
			check: func(t *testing.T, s *Spec) {
				hasQuantity(false, corev1.ResourceCPU, "1500m")(t, s)
				assert(t, s.Proxy.Concurrency == 2, "concurrency %d, want 2", s.Proxy.Concurrency)
			},
		},
		"proxy-cpu refuses a word":        {key: Prefix + "proxy-cpu", value: "lots", wantErr: "not a quantity"},
		"proxy-memory refuses zero":       {key: Prefix + "proxy-memory", value: "0", wantErr: "must be greater than zero"},
		"proxy-log-level sets the level":  {key: Prefix + "proxy-log-level", value: "debug", check: func(t *testing.T, s *Spec) { assert(t, s.Proxy.LogLevel == "debug", "level %q", s.Proxy.LogLevel) }},
		"proxy-log-level refuses verbose": {key: Prefix + "proxy-log-level", value: "verbose", wantErr: "unknown log level"},
		"proxy-concurrency sets threads": {key: Prefix + "proxy-concurrency", value: "4", check: func(t *testing.T, s *Spec) {
			assert(t, s.Proxy.Concurrency == 4, "concurrency %d", s.Proxy.Concurrency)
		}},
		"proxy-concurrency refuses zero": {key: Prefix + "proxy-concurrency", value: "0", wantErr: "0 is out of range"},
		"native-sidecar false uses a regular container": {
			key: Prefix + "native-sidecar", value: "false",
			check: func(t *testing.T, s *Spec) { assert(t, !s.Proxy.NativeSidecar, "native sidecar still on") },
		},
		"drain-seconds sets the drain time": {key: Prefix + "drain-seconds", value: "30", check: func(t *testing.T, s *Spec) { assert(t, s.Proxy.DrainSeconds == 30, "drain %d", s.Proxy.DrainSeconds) }},
		"drain-seconds refuses an hour":     {key: Prefix + "drain-seconds", value: "3600", wantErr: "3600 is out of range"},
		"inject refuses maybe":              {key: AnnotationInject, value: "maybe", wantErr: "not a boolean"},
		"access-log text switches the format": {key: Prefix + "access-log", value: "Text", check: func(t *testing.T, s *Spec) {
			assert(t, s.AccessLog.Format == AccessLogText, "format %q", s.AccessLog.Format)
		}},
		"access-log off turns the log off": {key: Prefix + "access-log", value: "off", check: func(t *testing.T, s *Spec) {
			assert(t, s.AccessLog.Format == AccessLogOff, "format %q", s.AccessLog.Format)
		}},
		"access-log refuses xml": {key: Prefix + "access-log", value: "xml", wantErr: "unknown access log format"},
		"access-log-request-headers are lower-cased in order": {
			key: Prefix + "access-log-request-headers", value: "X-Customer-Id, x-tenant",
			check: func(t *testing.T, s *Spec) {
				if diff := cmp.Diff([]string{"x-customer-id", "x-tenant"}, s.AccessLog.RequestHeaders); diff != "" {
					t.Errorf("request headers (-want +got):\n%s", diff)
				}
			},
		},
		"access-log-request-headers refuse a format operator": {
			key: Prefix + "access-log-request-headers", value: "x-a%,b", wantErr: `"x-a%" is not a header name`,
		},
		"access-log-request-headers refuse a pseudo-header": {
			key: Prefix + "access-log-request-headers", value: ":authority", wantErr: `":authority" is not a header name`,
		},
		"access-log-request-headers refuse a header listed twice": {
			key: Prefix + "access-log-request-headers", value: "x-a,X-A", wantErr: `header "X-A" is listed twice`,
		},
		"access-log-response-headers are kept": {
			key: Prefix + "access-log-response-headers", value: "x-cache",
			check: func(t *testing.T, s *Spec) {
				if diff := cmp.Diff([]string{"x-cache"}, s.AccessLog.ResponseHeaders); diff != "" {
					t.Errorf("response headers (-want +got):\n%s", diff)
				}
			},
		},
		"access-log-response-headers refuse seventeen headers": {
			key: Prefix + "access-log-response-headers", value: "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q", wantErr: "more than 16 headers",
		},
		"access-log-response-headers refuse a trailing dash": {
			key: Prefix + "access-log-response-headers", value: "x-", wantErr: `"x-" is not a header name`,
		},
		"tracing off is accepted without a collector": {key: Prefix + "tracing", value: "off", check: func(t *testing.T, s *Spec) {
			assert(t, s.Tracing.Provider == TracingOff, "provider %q", s.Tracing.Provider)
		}},
		"tracing refuses jaeger":                        {key: Prefix + "tracing", value: "jaeger", wantErr: "unknown tracing provider"},
		"tracing zipkin without a collector is refused": {key: Prefix + "tracing", value: "zipkin", wantErr: "no collector"},
		"tracing-endpoint takes a DNS name": {key: Prefix + "tracing-endpoint", value: "zipkin.observability:9411", check: func(t *testing.T, s *Spec) {
			assert(t, s.Tracing.Endpoint == "zipkin.observability:9411", "endpoint %q", s.Tracing.Endpoint)
		}},
		"tracing-endpoint takes an IPv6 address": {key: Prefix + "tracing-endpoint", value: "[fd00::1]:4317", check: func(t *testing.T, s *Spec) {
			assert(t, s.Tracing.Endpoint == "[fd00::1]:4317", "endpoint %q", s.Tracing.Endpoint)
		}},
		"tracing-endpoint refuses a URL":          {key: Prefix + "tracing-endpoint", value: "http://zipkin:9411/api/v2/spans", wantErr: "not HOST:PORT"},
		"tracing-endpoint refuses a missing port": {key: Prefix + "tracing-endpoint", value: "zipkin", wantErr: "not HOST:PORT"},
		"tracing-endpoint refuses a bad host":     {key: Prefix + "tracing-endpoint", value: "Zip_kin:9411", wantErr: `host "Zip_kin" is neither`},
		"tracing-sampling takes decimals": {key: Prefix + "tracing-sampling", value: "0.5", check: func(t *testing.T, s *Spec) {
			assert(t, s.Tracing.SamplingPercent == 0.5, "sampling %v", s.Tracing.SamplingPercent)
		}},
		"tracing-sampling refuses more than 100": {key: Prefix + "tracing-sampling", value: "101", wantErr: "101 is out of range"},
		"tracing-sampling refuses a word":        {key: Prefix + "tracing-sampling", value: "all", wantErr: "not a number"},
		"routes name a destination with retries": {key: Prefix + "routes", value: "{middleware: {retries: {attempts: 3}}}", check: func(t *testing.T, s *Spec) {
			assert(t, len(s.Policy.Destinations) == 1 && s.Policy.Destinations[0].Retries.Attempts == 3, "destinations %+v", s.Policy.Destinations)
		}},
		"routes refuse a per-try timeout without a unit": {
			key: Prefix + "routes", value: "{middleware: {retries: {perTryTimeout: 2}}}",
			wantErr: `routes.middleware.retries.perTryTimeout: "2" is not a duration`,
		},
		"timeout bounds every route": {key: Prefix + "timeout", value: "10s", check: func(t *testing.T, s *Spec) {
			assert(t, s.Policy.Timeout == 10*time.Second, "timeout %s", s.Policy.Timeout)
		}},
		"timeout refuses a bare number": {key: Prefix + "timeout", value: "10", wantErr: `"10" is not a duration`},
		"egress-policy allow-list": {key: Prefix + "egress-policy", value: "allow-list", check: func(t *testing.T, s *Spec) {
			assert(t, s.Policy.Egress.Mode == EgressAllowList, "mode %q", s.Policy.Egress.Mode)
		}},
		"egress-policy refuses deny": {key: Prefix + "egress-policy", value: "deny", wantErr: "unknown egress policy"},
		"egress-allow without allow-list is parsed but unused": {key: Prefix + "egress-allow", value: "api.github.com", check: func(t *testing.T, s *Spec) {
			assert(t, len(s.Policy.Egress.Names) == 0, "names %v kept in open mode", s.Policy.Egress.Names)
		}},
		"egress-allow refuses a bare wildcard": {key: Prefix + "egress-allow", value: "*.com", wantErr: "too broad"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s, _, err := FromPod(testPod(pods.Annotation(tc.key, tc.value)), DefaultDefaults())
			if tc.wantErr != "" {
				var invalid *InvalidAnnotationError
				if !errors.As(err, &invalid) {
					t.Fatalf("error = %v, want an *InvalidAnnotationError", err)
				}
				msg := err.Error()
				for _, want := range []string{tc.key, `"` + tc.value + `"`, tc.wantErr, "allowed: " + allowedFor(tc.key)} {
					if !strings.Contains(msg, want) {
						t.Errorf("error %q does not say %q", msg, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			tc.check(t, s)
		})
	}
}

// Every annotation in the table must be covered by TestAnnotationValues.
func TestEveryAnnotationIsTested(t *testing.T) {
	src := testSource(t)
	for _, a := range Annotations {
		short := strings.TrimPrefix(a.Name, Prefix)
		if !strings.Contains(src, `Prefix + "`+short+`"`) && a.Name != AnnotationInject {
			t.Errorf("annotation %s has no case in TestAnnotationValues", a.Name)
		}
		if a.Allowed == "" || a.Default == "" || a.Doc == "" || a.value.apply == nil {
			t.Errorf("annotation %s lacks allowed values, default, doc or parser", a.Name)
		}
	}
}

func TestFromPod(t *testing.T) {
	tests := map[string]struct {
		pod     *corev1.Pod
		check   func(t *testing.T, s *Spec, warnings []string)
		wantErr string
	}{
		"protocols come from port names, unnamed ports are sniffed": {
			pod: testPod(pods.Ports(
				corev1.ContainerPort{Name: "grpc-api", ContainerPort: 9090},
				corev1.ContainerPort{Name: "http", ContainerPort: 8080},
				corev1.ContainerPort{Name: "h2c-web", ContainerPort: 8081},
				corev1.ContainerPort{Name: "tcp-db", ContainerPort: 7000},
				corev1.ContainerPort{ContainerPort: 7001},
				corev1.ContainerPort{ContainerPort: 5432},
				corev1.ContainerPort{Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP},
			)),
			check: func(t *testing.T, s *Spec, _ []string) {
				want := []Port{{5432, ProtocolTCP, false}, {7000, ProtocolTCP, true}, {7001, ProtocolAuto, false}, {8080, ProtocolHTTP, true}, {8081, ProtocolHTTP, true}, {9090, ProtocolGRPC, true}}
				if diff := cmp.Diff(want, s.Inbound); diff != "" {
					t.Errorf("inbound (-want +got):\n%s", diff)
				}
			},
		},
		"the ports annotation replaces the container ports": {
			pod: testPod(pods.Annotation(Prefix+"ports", "9000:tcp")),
			check: func(t *testing.T, s *Spec, _ []string) {
				if diff := cmp.Diff([]Port{{9000, ProtocolTCP, true}}, s.Inbound); diff != "" {
					t.Errorf("inbound (-want +got):\n%s", diff)
				}
			},
		},
		"workload identity comes from app and version labels": {
			pod: testPod(),
			check: func(t *testing.T, s *Spec, _ []string) {
				want := Workload{Namespace: "shop", Name: "web-1", App: "web", Version: "v2"}
				if diff := cmp.Diff(want, s.Workload); diff != "" {
					t.Errorf("workload (-want +got):\n%s", diff)
				}
			},
		},
		"a replicaset's pod is named after its deployment": {
			pod: func() *corev1.Pod {
				p := testPod()
				p.Name, p.GenerateName = "", "web-5d8c9f-"
				p.Labels = map[string]string{"app.kubernetes.io/name": "web", "pod-template-hash": "5d8c9f"}
				return p
			}(),
			check: func(t *testing.T, s *Spec, _ []string) {
				want := Workload{Namespace: "shop", Name: "web", App: "web", Version: "unknown"}
				if diff := cmp.Diff(want, s.Workload); diff != "" {
					t.Errorf("workload (-want +got):\n%s", diff)
				}
			},
		},
		"defaults apply without annotations": {
			pod: testPod(),
			check: func(t *testing.T, s *Spec, _ []string) {
				d := DefaultDefaults()
				assert(t, s.Egress && s.IPv6 && s.Proxy.NativeSidecar, "egress, ipv6 and native sidecar default on")
				assert(t, s.Proxy.Concurrency == d.Concurrency, "concurrency %d", s.Proxy.Concurrency)
				assert(t, s.Proxy.UID == 1337 && s.Proxy.Ports == d.Ports, "proxy identity and ports")
			},
		},
		"observability defaults: JSON access log, no tracing, 1% sampling when turned on": {
			pod: testPod(),
			check: func(t *testing.T, s *Spec, _ []string) {
				want := Tracing{Provider: TracingOff, SamplingPercent: 1}
				if diff := cmp.Diff(want, s.Tracing); diff != "" {
					t.Errorf("tracing (-want +got):\n%s", diff)
				}
				assert(t, s.AccessLog.Format == AccessLogJSON, "access log %q", s.AccessLog.Format)
			},
		},
		"tracing with an endpoint sends spans there": {
			pod: testPod(pods.Annotation(Prefix+"tracing", "otlp"), pods.Annotation(Prefix+"tracing-endpoint", "otel.observability:4317")),
			check: func(t *testing.T, s *Spec, _ []string) {
				want := Tracing{Provider: TracingOTLP, Endpoint: "otel.observability:4317", SamplingPercent: 1}
				if diff := cmp.Diff(want, s.Tracing); diff != "" {
					t.Errorf("tracing (-want +got):\n%s", diff)
				}
			},
		},
		"an unknown planeless annotation is a warning with a suggestion": {
			pod: testPod(pods.Annotation(Prefix+"port", "8080")),
			check: func(t *testing.T, _ *Spec, warnings []string) {
				want := []string{"unknown annotation planeless.dev/port is ignored; did you mean planeless.dev/ports?"}
				if diff := cmp.Diff(want, warnings); diff != "" {
					t.Errorf("warnings (-want +got):\n%s", diff)
				}
			},
		},
		"annotations of others are ignored": {
			pod: testPod(pods.Annotation("example.com/ports", "x")),
			check: func(t *testing.T, _ *Spec, warnings []string) {
				assert(t, len(warnings) == 0, "warnings: %v", warnings)
			},
		},
		"every invalid annotation is reported at once": {
			pod:     testPod(pods.Annotation(Prefix+"ports", "x"), pods.Annotation(Prefix+"egress", "maybe")),
			wantErr: `invalid value "maybe" for annotation planeless.dev/egress: not a boolean (allowed: true, false)` + "\n" + `invalid value "x" for annotation planeless.dev/ports`,
		},
		"an app running as the proxy UID is refused": {
			pod:     testPod(pods.RunAsUser(1337)),
			wantErr: `container "web" runs as UID 1337, the proxy's UID`,
		},
		"an app running as the proxy group is refused": {
			pod: testPod(func(p *corev1.Pod) {
				gid := int64(1337)
				p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{RunAsGroup: &gid}
			}),
			wantErr: `container "web" runs as group 1337, the proxy's group`,
		},
		"an app port equal to a proxy port is refused": {
			pod:     testPod(pods.Ports(corev1.ContainerPort{ContainerPort: 15090})),
			wantErr: `container "web" declares port 15090, which the proxy uses itself`,
		},
		"a ports annotation naming a proxy port is refused": {
			pod:     testPod(pods.Annotation(Prefix+"ports", "15001")),
			wantErr: "lists port 15001, which the proxy uses itself",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s, warnings, err := FromPod(tc.pod, DefaultDefaults())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			tc.check(t, s, warnings)
		})
	}
}

func TestInjectionDisabled(t *testing.T) {
	tests := map[string]struct {
		value string
		set   bool
		label bool
		want  bool
	}{
		"absent means injected":  {want: false},
		"false opts out":         {value: "false", set: true, want: true},
		"disabled opts out":      {value: "disabled", set: true, want: true},
		"true keeps injection":   {value: "true", set: true, want: false},
		"garbage is not opt-out": {value: "nope", set: true, want: false},
		"a label opts out too":   {value: "disabled", label: true, want: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			pod := testPod()
			if tc.set {
				pod = testPod(pods.Annotation(AnnotationInject, tc.value))
			}
			if tc.label {
				pod.Labels[LabelInject] = tc.value
			}
			if got := InjectionDisabled(pod); got != tc.want {
				t.Errorf("InjectionDisabled = %v, want %v", got, tc.want)
			}
		})
	}
}

func hasQuantity(request bool, name corev1.ResourceName, want string) func(*testing.T, *Spec) {
	return func(t *testing.T, s *Spec) {
		t.Helper()
		list := s.Proxy.Resources.Limits
		if request {
			list = s.Proxy.Resources.Requests
		}
		got, ok := list[name]
		if !ok || got.Cmp(resource.MustParse(want)) != 0 {
			t.Errorf("%s = %v, want %s", name, list, want)
		}
	}
}

func assert(t *testing.T, ok bool, format string, args ...any) {
	t.Helper()
	if !ok {
		t.Errorf(format, args...)
	}
}

func allowedFor(key string) string {
	a, _ := lookupAnnotation(key)
	return a.Allowed
}
