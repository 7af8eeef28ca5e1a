package spec

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Prefix starts every planeless label and annotation.
const Prefix = "planeless.dev/"

const (
	// LabelInject on a namespace turns injection on for its pods.
	LabelInject = Prefix + "inject"
	// AnnotationInject set to "false" on a pod opts it out.
	AnnotationInject = Prefix + "inject"
	// AnnotationStatus is written by the injector: what it added to the pod.
	AnnotationStatus = Prefix + "status"
	// AnnotationBootstrap is written by the injector: Envoy's bootstrap,
	// handed to Envoy through a downward API volume.
	AnnotationBootstrap = Prefix + "bootstrap"
)

// Annotation declares one pod annotation: its name, what it accepts, its
// default, and how it sets the Spec.
type Annotation struct {
	Name    string
	Allowed string
	Default string
	Doc     string
	apply   func(s *Spec, value string) error
}

// Annotations is the table of every annotation a user may set on a pod, in
// the order the documentation lists them.
var Annotations = []Annotation{
	{
		Name:    AnnotationInject,
		Allowed: "true, false",
		Default: "true in a namespace labelled " + LabelInject + "=enabled",
		Doc:     "Set to false to leave this pod alone.",
		apply:   func(_ *Spec, v string) error { _, err := parseBool(v); return err },
	},
	{
		Name:    Prefix + "ports",
		Allowed: "comma-separated PORT[:PROTOCOL], PORT 1-65535, PROTOCOL one of " + protocolList(),
		Default: "every TCP containerPort; protocol from the port name (grpc*, http*, h2c*, tcp*) or auto",
		Doc:     "Inbound ports the proxy intercepts, and how it treats each one.",
		apply: func(s *Spec, v string) error {
			ports, err := parsePorts(v)
			s.Inbound = ports
			return err
		},
	},
	{
		Name:    Prefix + "exclude-inbound-ports",
		Allowed: "comma-separated ports 1-65535",
		Default: "none",
		Doc:     "Inbound ports that reach the application directly.",
		apply: func(s *Spec, v string) error {
			ports, err := parsePortList(v)
			s.ExcludeInboundPorts = ports
			return err
		},
	},
	{
		Name:    Prefix + "exclude-inbound-cidrs",
		Allowed: "comma-separated IPv4 or IPv6 CIDRs or addresses",
		Default: "none",
		Doc:     "Source ranges whose connections reach the application directly.",
		apply: func(s *Spec, v string) error {
			cidrs, err := parseCIDRList(v)
			s.ExcludeInboundCIDRs = cidrs
			return err
		},
	},
	{
		Name:    Prefix + "egress",
		Allowed: "true, false",
		Default: "true",
		Doc:     "Capture outbound traffic. false leaves outbound connections untouched.",
		apply: func(s *Spec, v string) error {
			b, err := parseBool(v)
			s.Egress = b
			return err
		},
	},
	{
		Name:    Prefix + "exclude-outbound-ports",
		Allowed: "comma-separated ports 1-65535",
		Default: "none",
		Doc:     "Destination ports that outbound connections reach directly.",
		apply: func(s *Spec, v string) error {
			ports, err := parsePortList(v)
			s.ExcludeOutboundPorts = mergePorts(s.ExcludeOutboundPorts, ports)
			return err
		},
	},
	{
		Name:    Prefix + "exclude-outbound-cidrs",
		Allowed: "comma-separated IPv4 or IPv6 CIDRs or addresses",
		Default: "none",
		Doc:     "Destination ranges that outbound connections reach directly.",
		apply: func(s *Spec, v string) error {
			cidrs, err := parseCIDRList(v)
			s.ExcludeOutboundCIDRs = cidrs
			return err
		},
	},
	{
		Name:    Prefix + "ipv6",
		Allowed: "true, false",
		Default: "true",
		Doc:     "Capture IPv6 as well as IPv4. Set false on nodes booted with IPv6 disabled.",
		apply: func(s *Spec, v string) error {
			b, err := parseBool(v)
			s.IPv6 = b
			return err
		},
	},
	{
		Name:    Prefix + "proxy-image",
		Allowed: "a container image reference",
		Default: "the chart's proxy image",
		Doc:     "Envoy image for this pod.",
		apply: func(s *Spec, v string) error {
			if strings.TrimSpace(v) == "" || strings.ContainsAny(v, " \t\n") {
				return fmt.Errorf("image must be a non-empty reference without spaces")
			}
			s.Proxy.Image = v
			return nil
		},
	},
	{
		Name:    Prefix + "proxy-cpu",
		Allowed: "a Kubernetes CPU quantity, e.g. 100m",
		Default: "the chart's proxy CPU request",
		Doc:     "CPU request of the proxy.",
		apply:   func(s *Spec, v string) error { return setQuantity(&s.Proxy.Resources.Requests, corev1.ResourceCPU, v) },
	},
	{
		Name:    Prefix + "proxy-cpu-limit",
		Allowed: "a Kubernetes CPU quantity, e.g. 1",
		Default: "the chart's proxy CPU limit",
		Doc:     "CPU limit of the proxy. Without proxy-concurrency, also sets Envoy's worker threads.",
		apply:   func(s *Spec, v string) error { return setQuantity(&s.Proxy.Resources.Limits, corev1.ResourceCPU, v) },
	},
	{
		Name:    Prefix + "proxy-memory",
		Allowed: "a Kubernetes memory quantity, e.g. 64Mi",
		Default: "the chart's proxy memory request",
		Doc:     "Memory request of the proxy.",
		apply: func(s *Spec, v string) error {
			return setQuantity(&s.Proxy.Resources.Requests, corev1.ResourceMemory, v)
		},
	},
	{
		Name:    Prefix + "proxy-memory-limit",
		Allowed: "a Kubernetes memory quantity, e.g. 256Mi",
		Default: "the chart's proxy memory limit",
		Doc:     "Memory limit of the proxy.",
		apply:   func(s *Spec, v string) error { return setQuantity(&s.Proxy.Resources.Limits, corev1.ResourceMemory, v) },
	},
	{
		Name:    Prefix + "proxy-log-level",
		Allowed: strings.Join(logLevels, ", "),
		Default: "warning",
		Doc:     "Envoy's log level (access logs are separate).",
		apply: func(s *Spec, v string) error {
			if !contains(logLevels, v) {
				return fmt.Errorf("unknown log level")
			}
			s.Proxy.LogLevel = v
			return nil
		},
	},
	{
		Name:    Prefix + "proxy-concurrency",
		Allowed: "an integer from 1 to 64",
		Default: "the proxy CPU limit rounded up, else 2",
		Doc:     "Envoy worker threads.",
		apply: func(s *Spec, v string) error {
			n, err := parseInt(v, 1, 64)
			s.Proxy.Concurrency = n
			return err
		},
	},
	{
		Name:    Prefix + "native-sidecar",
		Allowed: "true, false",
		Default: "true",
		Doc:     "Run Envoy as a native sidecar (an init container with restartPolicy Always, Kubernetes 1.29+). false adds a regular container for older clusters.",
		apply: func(s *Spec, v string) error {
			b, err := parseBool(v)
			s.Proxy.NativeSidecar = b
			return err
		},
	},
	{
		Name:    Prefix + "drain-seconds",
		Allowed: "an integer from 0 to 300",
		Default: "5",
		Doc:     "How long Envoy keeps serving open connections after the pod is asked to stop.",
		apply: func(s *Spec, v string) error {
			n, err := parseInt(v, 0, 300)
			s.Proxy.DrainSeconds = n
			return err
		},
	},
	{
		Name:    Prefix + "access-log",
		Allowed: accessLogFormatList(),
		Default: "json",
		Doc:     "Format of the proxy's access log on stdout (one line per HTTP request, both directions): json, text (key=value pairs), or off.",
		apply: func(s *Spec, v string) error {
			f := AccessLogFormat(strings.ToLower(strings.TrimSpace(v)))
			if !slices.Contains(AccessLogFormats, f) {
				return fmt.Errorf("unknown access log format")
			}
			s.AccessLog.Format = f
			return nil
		},
	},
	{
		Name:    Prefix + "access-log-request-headers",
		Allowed: fmt.Sprintf("comma-separated HTTP header names (letters, digits, '-'), at most %d", maxLoggedHeaders),
		Default: "none",
		Doc:     "Request headers logged as extra access log fields req_<name>, '-' becoming '_' (x-customer-id: req_x_customer_id).",
		apply: func(s *Spec, v string) error {
			names, err := parseHeaderNames(v)
			s.AccessLog.RequestHeaders = names
			return err
		},
	},
	{
		Name:    Prefix + "access-log-response-headers",
		Allowed: fmt.Sprintf("comma-separated HTTP header names (letters, digits, '-'), at most %d", maxLoggedHeaders),
		Default: "none",
		Doc:     "Response headers logged as extra access log fields resp_<name>, '-' becoming '_'.",
		apply: func(s *Spec, v string) error {
			names, err := parseHeaderNames(v)
			s.AccessLog.ResponseHeaders = names
			return err
		},
	},
	{
		Name:    Prefix + "tracing",
		Allowed: tracingProviderList(),
		Default: "off, or the chart's tracing provider",
		Doc:     "Send spans of every HTTP request to a Zipkin (B3 headers) or OpenTelemetry (OTLP/gRPC, W3C traceparent) collector. Needs tracing-endpoint or the chart's default collector.",
		apply: func(s *Spec, v string) error {
			p := TracingProvider(strings.ToLower(strings.TrimSpace(v)))
			if !slices.Contains(TracingProviders, p) {
				return fmt.Errorf("unknown tracing provider")
			}
			s.Tracing.Provider = p
			return nil
		},
	},
	{
		Name:    Prefix + "tracing-endpoint",
		Allowed: "HOST:PORT of the collector, HOST a DNS name or an IP address ([...] for IPv6)",
		Default: "the chart's tracing endpoint",
		Doc:     "The collector: Zipkin's HTTP port (spans go to /api/v2/spans, e.g. zipkin.observability:9411) or an OTLP/gRPC receiver (e.g. otel-collector.observability:4317).",
		apply: func(s *Spec, v string) error {
			ep, err := parseEndpoint(v)
			s.Tracing.Endpoint = ep
			return err
		},
	},
	{
		Name:    Prefix + "tracing-sampling",
		Allowed: "a percentage from 0 to 100, decimals allowed (0.5)",
		Default: "1, or the chart's tracing sampling",
		Doc:     "Share of the requests this proxy starts a trace for. A request that arrives with a sampling decision (B3 or traceparent headers, an x-request-id from another sidecar) keeps it.",
		apply: func(s *Spec, v string) error {
			f, err := parsePercent(v)
			s.Tracing.SamplingPercent = f
			return err
		},
	},
}

// outputAnnotations are written by the injector, not by users.
var outputAnnotations = []string{AnnotationStatus, AnnotationBootstrap}

func lookupAnnotation(name string) (Annotation, bool) {
	for _, a := range Annotations {
		if a.Name == name {
			return a, true
		}
	}
	return Annotation{}, false
}

func accessLogFormatList() string {
	names := make([]string, len(AccessLogFormats))
	for i, f := range AccessLogFormats {
		names[i] = string(f)
	}
	return strings.Join(names, ", ")
}

func tracingProviderList() string {
	names := make([]string, len(TracingProviders))
	for i, p := range TracingProviders {
		names[i] = string(p)
	}
	return strings.Join(names, ", ")
}

func protocolList() string {
	names := make([]string, len(Protocols))
	for i, p := range Protocols {
		names[i] = string(p)
	}
	return strings.Join(names, ", ")
}
