package proxy

import (
	"net/netip"
	"strconv"

	corev1 "k8s.io/api/core/v1"
)

// Protocol says how the inbound listener treats the bytes arriving on a port.
type Protocol string

const (
	// ProtocolAuto sniffs the first bytes: HTTP/1.1 and HTTP/2 are proxied
	// at L7 (gRPC to an HTTP/2 cluster, the rest to an HTTP/1.1 cluster);
	// anything else passes through as TCP.
	ProtocolAuto Protocol = "auto"
	// ProtocolHTTP is HTTP without sniffing: gRPC requests still go to the
	// HTTP/2 cluster and everything else to the HTTP/1.1 cluster.
	ProtocolHTTP Protocol = "http"
	// ProtocolGRPC sends every request to the HTTP/2 cluster.
	ProtocolGRPC Protocol = "grpc"
	// ProtocolTCP passes bytes through untouched; no L7 stats.
	ProtocolTCP Protocol = "tcp"
)

// Protocols lists every Protocol in the order the documentation shows them.
var Protocols = []Protocol{ProtocolAuto, ProtocolHTTP, ProtocolGRPC, ProtocolTCP}

// Port is one inbound port of the application that the proxy intercepts.
type Port struct {
	Number   uint16
	Protocol Protocol
	// Declared is true when the protocol was given (in planeless.dev/ports
	// or by the port's name) rather than left to sniffing.
	Declared bool
}

// Spec is everything the bootstrap renderer, the iptables planner and the
// pod patcher need to know about one pod. It is built by FromPod and is
// valid by construction.
type Spec struct {
	Workload Workload

	// Inbound lists the intercepted application ports, sorted by number.
	Inbound []Port
	// ExcludeInboundPorts are never redirected to the proxy, even when an
	// application container declares them.
	ExcludeInboundPorts []uint16
	// ExcludeInboundCIDRs are source ranges whose inbound connections reach
	// the application directly.
	ExcludeInboundCIDRs []netip.Prefix

	// Egress turns outbound capture on. When false, only inbound traffic
	// goes through the proxy.
	Egress bool
	// ExcludeOutboundPorts are destination ports never redirected.
	ExcludeOutboundPorts []uint16
	// ExcludeOutboundCIDRs are destination ranges never redirected.
	ExcludeOutboundCIDRs []netip.Prefix
	// OpaquePorts are passed through as TCP without waiting for the first
	// bytes: outbound by destination port, inbound for ports whose protocol
	// nothing declares. Server-first protocols (MySQL, SMTP) need this, or
	// the sniffing waits for bytes the client never sends.
	OpaquePorts []PortRange

	// IPv6 adds ip6tables rules and IPv6 listener addresses.
	IPv6 bool

	// Probes are the intercepted ports that kubelet TCP probes check.
	Probes []TCPProbe

	// Proxy is how the Envoy container runs and where it listens.
	Proxy Sidecar

	// AccessLog is the proxy's per-request log on stdout.
	AccessLog AccessLog
	// Tracing is where the proxy sends spans, if anywhere.
	Tracing Tracing

	// Policy is the pod's traffic policy: timeouts, named destinations
	// (retries, canaries, splits, faults) and the egress allow-list.
	Policy Policy
	// ClusterDomain ends the cluster's Service names (cluster.local).
	ClusterDomain string
}

// Workload identifies the pod in stats tags, access logs and node ids.
type Workload struct {
	Namespace string
	// Name is the pod's name, or its generateName prefix when the pod has
	// no name yet (pods created by controllers).
	Name    string
	App     string
	Version string
}

// Sidecar is how the Envoy sidecar itself runs.
type Sidecar struct {
	// Image overrides the template's image when not empty.
	Image string
	// Resources holds the requests and limits set by annotation; unset
	// entries keep the template's values.
	Resources   corev1.ResourceRequirements
	LogLevel    string
	Concurrency int
	// NativeSidecar runs Envoy as an init container with restartPolicy
	// Always (Kubernetes 1.29 and later).
	NativeSidecar bool
	// DrainSeconds is how long Envoy drains connections on shutdown.
	DrainSeconds int

	UID int64
	GID int64

	Ports Ports
}

// Ports are the ports Envoy itself listens on inside the pod.
type Ports struct {
	// Inbound receives the redirected inbound connections.
	Inbound uint16
	// Outbound receives the redirected outbound connections.
	Outbound uint16
	// Stats serves /stats/prometheus and /ready to the pod network.
	Stats uint16
}

// All returns the proxy's own TCP ports in a fixed order. (Its admin
// interface is a Unix socket, on no port.)
func (p Ports) All() []uint16 {
	return []uint16{p.Inbound, p.Outbound, p.Stats}
}

// Lookup returns the intercepted inbound port with the given number.
func (s *Spec) Lookup(number uint16) (Port, bool) {
	for _, p := range s.Inbound {
		if p.Number == number {
			return p, true
		}
	}
	return Port{}, false
}

// AccessLogFormat is how the proxy writes one line per request to stdout.
type AccessLogFormat string

const (
	// AccessLogJSON writes one JSON object per line.
	AccessLogJSON AccessLogFormat = "json"
	// AccessLogText writes the same fields as key=value pairs.
	AccessLogText AccessLogFormat = "text"
	// AccessLogOff writes no access log.
	AccessLogOff AccessLogFormat = "off"
)

// AccessLogFormats lists every AccessLogFormat in documentation order.
var AccessLogFormats = []AccessLogFormat{AccessLogJSON, AccessLogText, AccessLogOff}

// AccessLog is the proxy's access log of HTTP requests, both directions.
type AccessLog struct {
	Format AccessLogFormat
	// RequestHeaders and ResponseHeaders are header names, lower case,
	// logged as extra fields req_<name> and resp_<name> ('-' becomes '_').
	RequestHeaders  []string
	ResponseHeaders []string
}

// TracingProvider is the kind of collector the proxy sends spans to.
type TracingProvider string

const (
	// TracingOff sends no spans.
	TracingOff TracingProvider = "off"
	// TracingZipkin sends Zipkin v2 JSON spans over HTTP to
	// <endpoint>/api/v2/spans and propagates B3 headers.
	TracingZipkin TracingProvider = "zipkin"
	// TracingOTLP sends OpenTelemetry spans over OTLP/gRPC and propagates
	// W3C trace context (traceparent, tracestate).
	TracingOTLP TracingProvider = "otlp"
)

// TracingProviders lists every TracingProvider in documentation order.
var TracingProviders = []TracingProvider{TracingOff, TracingZipkin, TracingOTLP}

// Tracing says where the proxy sends spans and how many requests it samples.
type Tracing struct {
	Provider TracingProvider
	// Endpoint is the collector's host:port; set whenever Provider is not
	// TracingOff.
	Endpoint string
	// SamplingPercent is the share of requests that start a trace, 0 to
	// 100. A request that arrives with a sampling decision keeps it.
	SamplingPercent float64
}

// PortRange is the ports First to Last, both included.
type PortRange struct {
	First, Last uint16
}

// Contains reports whether port is in r.
func (r PortRange) Contains(port uint16) bool { return r.First <= port && port <= r.Last }

func (r PortRange) String() string {
	if r.First == r.Last {
		return strconv.Itoa(int(r.First))
	}
	return strconv.Itoa(int(r.First)) + "-" + strconv.Itoa(int(r.Last))
}

// InRanges reports whether port is in one of ranges.
func InRanges(ranges []PortRange, port uint16) bool {
	for _, r := range ranges {
		if r.Contains(port) {
			return true
		}
	}
	return false
}
