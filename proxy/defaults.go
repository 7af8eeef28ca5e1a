package proxy

import "net/netip"

// Defaults are the injection defaults a cluster operator sets (through the
// chart's values and the webhook's flags); annotations override them per pod.
type Defaults struct {
	ProxyUID int64
	ProxyGID int64
	Ports    Ports

	LogLevel      string
	Concurrency   int
	NativeSidecar bool
	Egress        bool
	IPv6          bool
	DrainSeconds  int

	ExcludeOutboundPorts []uint16
	// OpaquePorts are never sniffed; pods add to them with
	// planeless.dev/opaque-ports.
	OpaquePorts []PortRange

	// AccessLogFormat is the access log format of pods without the
	// access-log annotation.
	AccessLogFormat AccessLogFormat
	// Tracing is the cluster-wide collector: pods without tracing
	// annotations send spans there (Provider off: no tracing).
	Tracing Tracing

	// EgressPolicy is the egress mode of pods without
	// planeless.dev/egress-policy.
	EgressPolicy EgressMode
	// EgressAllowedCIDRs are allowed to every pod in allow-list mode,
	// besides its own planeless.dev/egress-allow: the cluster's pod and
	// Service ranges, typically.
	EgressAllowedCIDRs []netip.Prefix
	// ClusterDomain ends the cluster's Service names.
	ClusterDomain string

	// CNI says the node's CNI plugin (`planeless cni`, installed by the
	// chart's agent) installs the pods' rules: pods get an unprivileged
	// check of the redirection instead of the iptables init container.
	CNI bool
}

// DefaultTracingSampling is the share of requests, in percent, that start a
// trace when tracing is on and nothing else says: 1%, so that turning
// tracing on for a busy service does not multiply its traffic; set
// planeless.dev/tracing-sampling to 100 to trace everything.
const DefaultTracingSampling = 1.0

// DefaultDefaults returns the defaults planeless ships with.
func DefaultDefaults() Defaults {
	return Defaults{
		ProxyUID: 1337,
		ProxyGID: 1337,
		Ports: Ports{
			Inbound:  15006,
			Outbound: 15001,
			Stats:    15090,
		},
		LogLevel:      "warning",
		Concurrency:   2,
		NativeSidecar: true,
		Egress:        true,
		IPv6:          true,
		DrainSeconds:  5,

		OpaquePorts:     DefaultOpaquePorts(),
		AccessLogFormat: AccessLogJSON,
		Tracing:         Tracing{Provider: TracingOff, SamplingPercent: DefaultTracingSampling},
		EgressPolicy:    EgressOpen,
		ClusterDomain:   DefaultClusterDomain,
	}
}

// DefaultOpaquePorts are the well-known ports of protocols that must not be
// sniffed: server-first protocols, where the client waits for the server's
// greeting (FTP 21, SSH 22, SMTP 25 and 587, POP3 110, IMAP 143, MySQL
// 3306), and the ports Linkerd and Istio also treat as opaque (DNS 53,
// Galera 4444, PostgreSQL 5432, Redis 6379, Elasticsearch transport 9300,
// memcached 11211, MongoDB 27017).
func DefaultOpaquePorts() []PortRange {
	var out []PortRange
	for _, p := range []uint16{21, 22, 25, 53, 110, 143, 587, 3306, 4444, 5432, 6379, 9300, 11211, 27017} {
		out = append(out, PortRange{p, p})
	}
	return mergeRanges(nil, out)
}
