package proxy

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

	// AccessLogFormat is the access log format of pods without the
	// access-log annotation.
	AccessLogFormat AccessLogFormat
	// Tracing is the cluster-wide collector: pods without tracing
	// annotations send spans there (Provider off: no tracing).
	Tracing Tracing
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
			Admin:    15000,
			Stats:    15090,
		},
		LogLevel:      "warning",
		Concurrency:   2,
		NativeSidecar: true,
		Egress:        true,
		IPv6:          true,
		DrainSeconds:  5,

		AccessLogFormat: AccessLogJSON,
		Tracing:         Tracing{Provider: TracingOff, SamplingPercent: DefaultTracingSampling},
	}
}
