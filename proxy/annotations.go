package proxy

import (
	"cmp"
	"fmt"
	"net/netip"
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
	value   value
}

func annotation(name, def, doc string, v value) Annotation {
	return Annotation{Name: name, Allowed: v.allowed, Default: def, Doc: doc, value: v}
}

// parse applies the annotation's value to s, refusing a value longer than
// MaxAnnotationBytes before reading it.
func (a Annotation) parse(s *Spec, v string) error {
	if limit := cmp.Or(a.value.maxBytes, MaxAnnotationBytes); len(v) > limit {
		return fmt.Errorf("%d bytes, more than the %d this annotation may hold", len(v), limit)
	}
	return a.value.apply(s, v)
}

// Annotations is the table of every annotation a user may set on a pod, in
// the order the documentation lists them.
var Annotations = []Annotation{
	annotation(AnnotationInject, "true in a namespace labelled "+LabelInject+"=enabled",
		"Set to false to leave this pod alone (a label of the same name works too).",
		boolean(func(*Spec) *bool { return new(bool) })),
	annotation(Prefix+"ports", "every TCP containerPort; protocol from the port name (grpc*, http*, h2c*, tcp*) or auto",
		"Inbound ports the proxy intercepts, and how it treats each one.",
		value{
			allowed: fmt.Sprintf("comma-separated PORT[:PROTOCOL], PORT 1-65535 or a range LOW-HIGH, PROTOCOL one of %s; at most %d ports", list(Protocols), MaxPorts),
			apply: func(s *Spec, v string) error {
				ports, err := parseInboundPorts(v)
				s.Inbound = ports
				return err
			},
		}),
	annotation(Prefix+"exclude-inbound-ports", "none",
		"Inbound ports that reach the application directly.",
		ports(func(s *Spec) *[]uint16 { return &s.ExcludeInboundPorts })),
	annotation(Prefix+"exclude-inbound-cidrs", "none",
		"Source ranges whose connections reach the application directly.",
		cidrs(func(s *Spec) *[]netip.Prefix { return &s.ExcludeInboundCIDRs })),
	annotation(Prefix+"egress", "true",
		"Capture outbound traffic. false leaves outbound connections untouched.",
		boolean(func(s *Spec) *bool { return &s.Egress })),
	annotation(Prefix+"exclude-outbound-ports", "none",
		"Destination ports that outbound connections reach directly.",
		ports(func(s *Spec) *[]uint16 { return &s.ExcludeOutboundPorts })),
	annotation(Prefix+"exclude-outbound-cidrs", "none",
		"Destination ranges that outbound connections reach directly.",
		cidrs(func(s *Spec) *[]netip.Prefix { return &s.ExcludeOutboundCIDRs })),
	annotation(Prefix+"opaque-ports", joinRanges(DefaultOpaquePorts()),
		"Ports passed through as TCP without waiting for the client's first bytes: outbound by destination port, inbound for ports without a declared protocol. Server-first protocols (MySQL, SMTP) need it. Added to the defaults.",
		portRanges(func(s *Spec) *[]PortRange { return &s.OpaquePorts })),
	annotation(Prefix+"ipv6", "true",
		"Capture IPv6 as well as IPv4. Set false on nodes booted with IPv6 disabled.",
		boolean(func(s *Spec) *bool { return &s.IPv6 })),
	annotation(Prefix+"proxy-image", "the chart's proxy image",
		"Envoy image for this pod.",
		value{allowed: "a container image reference", apply: func(s *Spec, v string) error {
			if strings.TrimSpace(v) == "" || strings.ContainsAny(v, " \t\r\n") {
				return fmt.Errorf("image must be a non-empty reference without spaces")
			}
			s.Proxy.Image = v
			return nil
		}}),
	annotation(Prefix+"proxy-cpu", "the chart's proxy CPU request",
		"CPU request of the proxy.",
		quantity(requests, corev1.ResourceCPU, "100m")),
	annotation(Prefix+"proxy-cpu-limit", "the chart's proxy CPU limit",
		"CPU limit of the proxy. Without proxy-concurrency, also sets Envoy's worker threads.",
		quantity(limits, corev1.ResourceCPU, "1")),
	annotation(Prefix+"proxy-memory", "the chart's proxy memory request",
		"Memory request of the proxy.",
		quantity(requests, corev1.ResourceMemory, "64Mi")),
	annotation(Prefix+"proxy-memory-limit", "the chart's proxy memory limit",
		"Memory limit of the proxy.",
		quantity(limits, corev1.ResourceMemory, "256Mi")),
	annotation(Prefix+"proxy-log-level", "warning",
		"Envoy's log level (access logs are separate).",
		oneOf(logLevels, "log level", func(s *Spec) *string { return &s.Proxy.LogLevel })),
	annotation(Prefix+"proxy-concurrency", "the proxy CPU limit rounded up, else 2",
		"Envoy worker threads.",
		integer(1, 64, func(s *Spec) *int { return &s.Proxy.Concurrency })),
	annotation(Prefix+"native-sidecar", "true",
		"Run Envoy as a native sidecar (an init container with restartPolicy Always, Kubernetes 1.29+): the application starts once Envoy is ready. false adds a regular container for older clusters.",
		boolean(func(s *Spec) *bool { return &s.Proxy.NativeSidecar })),
	annotation(Prefix+"drain-seconds", "5",
		"How long Envoy keeps serving open connections after the pod is asked to stop.",
		integer(0, 300, func(s *Spec) *int { return &s.Proxy.DrainSeconds })),
	annotation(Prefix+"access-log", "json",
		"Format of the proxy's access log on stdout (one line per HTTP request, both directions): json, text (key=value pairs), or off.",
		oneOf(AccessLogFormats, "access log format", func(s *Spec) *AccessLogFormat { return &s.AccessLog.Format })),
	annotation(Prefix+"access-log-request-headers", "none",
		"Request headers logged as extra access log fields req_<name>, '-' becoming '_' (x-customer-id: req_x_customer_id).",
		headerNames(func(s *Spec) *[]string { return &s.AccessLog.RequestHeaders })),
	annotation(Prefix+"access-log-response-headers", "none",
		"Response headers logged as extra access log fields resp_<name>, '-' becoming '_'.",
		headerNames(func(s *Spec) *[]string { return &s.AccessLog.ResponseHeaders })),
	annotation(Prefix+"tracing", "off, or the chart's tracing provider",
		"Send spans of every HTTP request to a Zipkin (B3 headers) or OpenTelemetry (OTLP/gRPC, W3C traceparent) collector. Needs tracing-endpoint or the chart's default collector.",
		oneOf(TracingProviders, "tracing provider", func(s *Spec) *TracingProvider { return &s.Tracing.Provider })),
	annotation(Prefix+"tracing-endpoint", "the chart's tracing endpoint",
		"The collector: Zipkin's HTTP port (spans go to /api/v2/spans, e.g. zipkin.observability:9411) or an OTLP/gRPC receiver (e.g. otel-collector.observability:4317).",
		value{allowed: "HOST:PORT of the collector, HOST a DNS name or an IP address ([...] for IPv6)", apply: func(s *Spec, v string) error {
			ep, err := parseEndpoint(v)
			s.Tracing.Endpoint = ep
			return err
		}}),
	annotation(Prefix+"tracing-sampling", "1, or the chart's tracing sampling",
		"Share of the requests this proxy starts a trace for. A request that arrives with a sampling decision (B3 or traceparent headers, an x-request-id from another sidecar) keeps it.",
		percent(func(s *Spec) *float64 { return &s.Tracing.SamplingPercent })),
	annotation(Prefix+"routes", "none",
		"Traffic policy of this pod's outbound HTTP requests by destination Service: retries, timeout, header-matched and weighted targets (canaries, splits), injected faults. A destination's rules apply to requests whose Host names the Service (name, name.namespace, name.namespace.svc or the full name, with its port); they go to the target Services, resolved by Envoy. See docs/traffic-policy.md.",
		value{allowed: RoutesAllowed, maxBytes: maxRoutesBytes, apply: func(s *Spec, v string) error {
			dests, err := parseRoutes(v, s.Workload.Namespace)
			s.Policy.Destinations = dests
			return err
		}}),
	annotation(Prefix+"timeout", "none",
		"Longest time a request may take, through every inbound and outbound route of this pod (a destination of planeless.dev/routes may set its own). The proxy answers 504 when it is over.",
		value{allowed: "a duration (10s, 500ms, 1m30s) up to 24h, or 0 for none", apply: func(s *Spec, v string) error {
			d, err := parseTimeout(v)
			s.Policy.Timeout = d
			return err
		}}),
	annotation(Prefix+"egress-policy", "open, or the chart's egress policy",
		"open: outbound connections go where the application dials. allow-list: only to the names and ranges of planeless.dev/egress-allow, the cluster's Services (*.svc.<cluster domain>, short names) and the chart's allowed ranges; HTTP is refused with 403, TLS and TCP by closing the connection. Excluded outbound ports and ranges bypass it.",
		oneOf(EgressModes, "egress policy", func(s *Spec) *EgressMode { return &s.Policy.Egress.Mode })),
	annotation(Prefix+"egress-allow", "none",
		"What an allow-list lets this pod reach besides the cluster's Services: host names for HTTP (by Host) and TLS (by server name), resolved by the proxy, and address ranges for any TCP.",
		value{allowed: EgressAllowAllowed, apply: func(s *Spec, v string) error {
			names, cidrs, err := parseEgressAllow(v)
			s.Policy.Egress.Names, s.Policy.Egress.CIDRs = names, cidrs
			return err
		}}),
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

func joinRanges(ranges []PortRange) string {
	parts := make([]string, len(ranges))
	for i, r := range ranges {
		parts[i] = r.String()
	}
	return strings.Join(parts, ", ")
}

// annotationsByName is the table sorted by name: the order problems are
// reported in.
var annotationsByName = func() []Annotation {
	sorted := slices.Clone(Annotations)
	slices.SortFunc(sorted, func(a, b Annotation) int { return strings.Compare(a.Name, b.Name) })
	return sorted
}()
