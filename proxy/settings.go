package proxy

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/utils/ptr"
)

// Setting is one injection default a cluster operator sets: a flag of
// `planeless webhook` (and of `inject` and `render`, so that they reproduce
// a configured webhook) and the chart value that becomes that flag. Where an
// annotation overrides the default per pod, the setting parses with the
// annotation's own parser: a value is accepted by all three or by none.
type Setting struct {
	// Flag is the flag's name, without dashes.
	Flag string
	// Value is the chart's values path, e.g. proxy.logLevel.
	Value string
	// Annotation overrides the setting per pod; empty when none does.
	Annotation string
	Usage      string
	Allowed    string
	// Choices, Min and Max describe what is allowed for checks outside Go
	// (the chart's values.schema.json is tested against them); Bool marks a
	// switch.
	Choices  []string
	Min, Max *float64
	Bool     bool

	get func(d *Defaults) string
	set func(d *Defaults, v string) error
}

// Settings lists every injection default, in the order of the chart's
// values.
var Settings = []Setting{
	integerSetting("proxy-uid", "proxy.uid", "UID Envoy runs as; its traffic is never redirected", 1, math.MaxInt32,
		func(d *Defaults) *int64 { return &d.ProxyUID }),
	integerSetting("proxy-gid", "proxy.gid", "GID Envoy runs as", 1, math.MaxInt32,
		func(d *Defaults) *int64 { return &d.ProxyGID }),
	annotated("native-sidecar", "proxy.nativeSidecar", "run Envoy as a native sidecar (Kubernetes 1.29+)",
		func(d *Defaults) string { return strconv.FormatBool(d.NativeSidecar) },
		func(d *Defaults, s *Spec) { d.NativeSidecar = s.Proxy.NativeSidecar }),
	annotated("proxy-log-level", "proxy.logLevel", "Envoy's default log level",
		func(d *Defaults) string { return d.LogLevel },
		func(d *Defaults, s *Spec) { d.LogLevel = s.Proxy.LogLevel }),
	annotated("proxy-concurrency", "proxy.concurrency", "Envoy worker threads when the pod sets no CPU limit or concurrency",
		func(d *Defaults) string { return strconv.Itoa(d.Concurrency) },
		func(d *Defaults, s *Spec) { d.Concurrency = s.Proxy.Concurrency }),
	annotated("egress", "proxy.egress", "capture outbound traffic by default",
		func(d *Defaults) string { return strconv.FormatBool(d.Egress) },
		func(d *Defaults, s *Spec) { d.Egress = s.Egress }),
	annotated("ipv6", "proxy.ipv6", "capture IPv6 by default",
		func(d *Defaults) string { return strconv.FormatBool(d.IPv6) },
		func(d *Defaults, s *Spec) { d.IPv6 = s.IPv6 }),
	annotated("drain-seconds", "proxy.drainSeconds", "default drain time of Envoy on shutdown",
		func(d *Defaults) string { return strconv.Itoa(d.DrainSeconds) },
		func(d *Defaults, s *Spec) { d.DrainSeconds = s.Proxy.DrainSeconds }),
	{
		Flag: "exclude-outbound-ports", Value: "proxy.excludeOutboundPorts",
		Usage:   "destination ports outbound connections of every pod reach directly (a pod's " + Prefix + "exclude-outbound-ports adds to them)",
		Allowed: fmt.Sprintf("comma-separated ports 1-65535 or ranges LOW-HIGH, at most %d ports, or nothing", MaxPorts),
		get:     func(d *Defaults) string { return joinPorts(d.ExcludeOutboundPorts) },
		set: func(d *Defaults, v string) error {
			list, err := ParsePorts(v)
			d.ExcludeOutboundPorts = list
			return err
		},
	},
	{
		Flag: "opaque-ports", Value: "proxy.opaquePorts", Annotation: Prefix + "opaque-ports",
		Usage:   "ports passed through as TCP without sniffing (server-first protocols); a pod's " + Prefix + "opaque-ports adds to them",
		Allowed: mustAnnotation(Prefix+"opaque-ports").Allowed + ", or nothing",
		get:     func(d *Defaults) string { return joinRanges(d.OpaquePorts) },
		set: func(d *Defaults, v string) error {
			if strings.TrimSpace(v) == "" {
				d.OpaquePorts = nil
				return nil
			}
			list, err := ParsePortRanges(v)
			d.OpaquePorts = list
			return err
		},
	},
	annotated("egress-policy", "proxy.egressPolicy", "egress of pods without "+Prefix+"egress-policy: open or allow-list",
		func(d *Defaults) string { return string(cmp.Or(d.EgressPolicy, EgressOpen)) },
		func(d *Defaults, s *Spec) { d.EgressPolicy = s.Policy.Egress.Mode }),
	{
		Flag: "egress-allowed-cidrs", Value: "proxy.egressAllowedCIDRs",
		Usage:   "ranges every pod in allow-list mode may reach (the cluster's pod and Service ranges)",
		Allowed: fmt.Sprintf("comma-separated IPv4 or IPv6 CIDRs, not loopback, at most %d, or nothing", MaxCIDRs),
		get: func(d *Defaults) string {
			parts := make([]string, len(d.EgressAllowedCIDRs))
			for i, p := range d.EgressAllowedCIDRs {
				parts[i] = p.String()
			}
			return strings.Join(parts, ",")
		},
		set: func(d *Defaults, v string) error {
			list, err := ParseCIDRs(v)
			if err == nil {
				for _, p := range list {
					if isLoopback(p) {
						err = fmt.Errorf("%s is a loopback range (a connection dialled at the proxy itself would loop)", p)
					}
				}
			}
			d.EgressAllowedCIDRs = list
			return err
		},
	},
	{
		Flag: "cluster-domain", Value: "proxy.clusterDomain",
		Usage:   "the cluster's DNS domain, which ends its Service names",
		Allowed: "a DNS name, e.g. cluster.local",
		get:     func(d *Defaults) string { return d.ClusterDomain },
		set: func(d *Defaults, v string) error {
			if msgs := validation.IsDNS1123Subdomain(v); len(msgs) > 0 {
				return fmt.Errorf("%s is not a DNS name", Echo(v))
			}
			d.ClusterDomain = v
			return nil
		},
	},
	annotated("access-log", "proxy.accessLog", "access log format of pods without "+Prefix+"access-log",
		func(d *Defaults) string { return cmp.Or(string(d.AccessLogFormat), string(AccessLogJSON)) },
		func(d *Defaults, s *Spec) { d.AccessLogFormat = s.AccessLog.Format }),
	portSetting("proxy-inbound-port", "proxy.ports.inbound", "port of Envoy's inbound listener",
		func(d *Defaults) *uint16 { return &d.Ports.Inbound }),
	portSetting("proxy-outbound-port", "proxy.ports.outbound", "port of Envoy's outbound listener",
		func(d *Defaults) *uint16 { return &d.Ports.Outbound }),
	portSetting("proxy-stats-port", "proxy.ports.stats", "port of Envoy's stats listener (/stats/prometheus, /ready)",
		func(d *Defaults) *uint16 { return &d.Ports.Stats }),
	annotatedAs("tracing", "tracing", "tracing.provider", "tracing of pods without "+Prefix+"tracing",
		func(d *Defaults) string { return cmp.Or(string(d.Tracing.Provider), string(TracingOff)) },
		func(d *Defaults, s *Spec) { d.Tracing.Provider = s.Tracing.Provider }),
	{
		Flag: "tracing-endpoint", Value: "tracing.endpoint", Annotation: Prefix + "tracing-endpoint",
		Usage:   "HOST:PORT of the cluster-wide tracing collector",
		Allowed: mustAnnotation(Prefix+"tracing-endpoint").Allowed + ", or nothing",
		get:     func(d *Defaults) string { return d.Tracing.Endpoint },
		set: func(d *Defaults, v string) error {
			if v == "" {
				d.Tracing.Endpoint = ""
				return nil
			}
			var s Spec
			err := mustAnnotation(Prefix+"tracing-endpoint").parse(&s, v)
			d.Tracing.Endpoint = s.Tracing.Endpoint
			return err
		},
	},
	annotatedAs("tracing-sampling", "tracing-sampling", "tracing.samplingPercent", "percent of requests that start a trace",
		func(d *Defaults) string { return strconv.FormatFloat(d.Tracing.SamplingPercent, 'g', -1, 64) },
		func(d *Defaults, s *Spec) { d.Tracing.SamplingPercent = s.Tracing.SamplingPercent }),
	{
		Flag: "cni", Value: "cni.enabled", Bool: true,
		Usage: "CNI mode: the node's planeless CNI plugin installs the rules, and pods get an unprivileged check " +
			"of the redirection instead of the root iptables init container (pods pass Pod Security restricted)",
		Allowed: "true or false",
		get:     func(d *Defaults) string { return strconv.FormatBool(d.CNI) },
		set: func(d *Defaults, v string) error {
			b, err := strconv.ParseBool(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("%s is not a boolean", Echo(v))
			}
			d.CNI = b
			return nil
		},
	},
}

// annotated is a setting parsed like the annotation of the same name.
func annotated(flag, valuePath, usage string, get func(*Defaults) string, copyFrom func(*Defaults, *Spec)) Setting {
	return annotatedAs(flag, flag, valuePath, usage, get, copyFrom)
}

func annotatedAs(flag, annotationName, valuePath, usage string, get func(*Defaults) string, copyFrom func(*Defaults, *Spec)) Setting {
	a := mustAnnotation(Prefix + annotationName)
	return Setting{
		Flag: flag, Value: valuePath, Annotation: a.Name, Usage: usage,
		Allowed: a.Allowed, Choices: a.value.choices, Min: a.value.min, Max: a.value.max,
		Bool: a.value.isBool,
		get:  get,
		set: func(d *Defaults, v string) error {
			var s Spec
			if err := a.parse(&s, v); err != nil {
				return err
			}
			copyFrom(d, &s)
			return nil
		},
	}
}

func integerSetting(flag, valuePath, usage string, lo, hi int64, field func(*Defaults) *int64) Setting {
	return Setting{
		Flag: flag, Value: valuePath, Usage: usage,
		Allowed: fmt.Sprintf("an integer from %d to %d", lo, hi),
		Min:     ptr.To(float64(lo)), Max: ptr.To(float64(hi)),
		get: func(d *Defaults) string { return strconv.FormatInt(*field(d), 10) },
		set: func(d *Defaults, v string) error {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return fmt.Errorf("not an integer")
			}
			if n < lo || n > hi {
				return fmt.Errorf("%d is out of range", n)
			}
			*field(d) = n
			return nil
		},
	}
}

func portSetting(flag, valuePath, usage string, field func(*Defaults) *uint16) Setting {
	return Setting{
		Flag: flag, Value: valuePath, Usage: usage,
		Allowed: "a port from 1 to 65535, different from the proxy's other ports",
		Min:     ptr.To(1.0), Max: ptr.To(65535.0),
		get: func(d *Defaults) string { return strconv.Itoa(int(*field(d))) },
		set: func(d *Defaults, v string) error {
			p, err := ParsePort(v)
			*field(d) = p
			return err
		},
	}
}

func mustAnnotation(name string) Annotation {
	a, ok := lookupAnnotation(name)
	if !ok {
		panic("proxy: no annotation " + name)
	}
	return a
}

// FlagValue is a flag bound to one field of Defaults (it satisfies
// pflag.Value): setting it parses with the setting's parser, and a refused
// value says what is allowed.
type FlagValue struct {
	setting  Setting
	defaults *Defaults
}

// Bind returns the setting as a flag value writing into d.
func (s Setting) Bind(d *Defaults) *FlagValue { return &FlagValue{setting: s, defaults: d} }

func (f *FlagValue) String() string { return f.setting.get(f.defaults) }

// Set parses v into the defaults.
func (f *FlagValue) Set(v string) error {
	if err := f.setting.set(f.defaults, v); err != nil {
		return fmt.Errorf("%w (allowed: %s)", err, f.setting.Allowed)
	}
	return nil
}

// Type names the value's kind in usage texts.
func (f *FlagValue) Type() string {
	switch {
	case f.setting.Bool:
		return "bool"
	case f.setting.Choices != nil:
		return "string"
	case f.setting.Min != nil:
		return "number"
	}
	return "string"
}

// Validate checks defaults built in code or read from flags: every field
// with its setting's parser, then what the fields must be together.
func (d Defaults) Validate() error {
	var errs []error
	for _, s := range Settings {
		v := s.get(&d)
		scratch := d
		if err := s.set(&scratch, v); err != nil {
			errs = append(errs, fmt.Errorf("invalid value %s for --%s (chart value %s): %w (allowed: %s)", Echo(v), s.Flag, s.Value, err, s.Allowed))
		}
	}
	ports := []struct {
		flag string
		port uint16
	}{
		{"proxy-inbound-port", d.Ports.Inbound}, {"proxy-outbound-port", d.Ports.Outbound},
		{"proxy-stats-port", d.Ports.Stats},
	}
	for i, a := range ports {
		for _, b := range ports[i+1:] {
			if a.port == b.port {
				errs = append(errs, fmt.Errorf("--%s and --%s are both %d: the proxy's ports must differ", a.flag, b.flag, a.port))
			}
		}
	}
	if slices.Contains(TracingProviders, d.Tracing.Provider) && d.Tracing.Provider != TracingOff && d.Tracing.Endpoint == "" {
		errs = append(errs, fmt.Errorf("--tracing=%s needs --tracing-endpoint (chart value tracing.endpoint)", d.Tracing.Provider))
	}
	errs = append(errs, d.validatePolicy()...)
	return errors.Join(errs...)
}
