package main

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/spf13/pflag"

	"github.com/planeless/planeless/inject"
	"github.com/planeless/planeless/proxy"
	"github.com/planeless/planeless/templates"
)

// injectorFlags are the injection defaults a cluster operator sets; webhook,
// inject and render share them so the CLI reproduces a configured webhook.
type injectorFlags struct {
	defaults  proxy.Defaults
	templates string
}

func (f *injectorFlags) bind(fs *pflag.FlagSet) {
	f.defaults = proxy.DefaultDefaults()
	d := &f.defaults
	fs.StringVar(&f.templates, "templates", "", "folder with proxy.yaml and init.yaml overriding the built-in container templates")
	fs.Int64Var(&d.ProxyUID, "proxy-uid", d.ProxyUID, "UID Envoy runs as; its traffic is never redirected")
	fs.Int64Var(&d.ProxyGID, "proxy-gid", d.ProxyGID, "GID Envoy runs as")
	fs.BoolVar(&d.NativeSidecar, "native-sidecar", d.NativeSidecar, "run Envoy as a native sidecar (Kubernetes 1.29+)")
	fs.StringVar(&d.LogLevel, "proxy-log-level", d.LogLevel, "Envoy's default log level")
	fs.IntVar(&d.Concurrency, "proxy-concurrency", d.Concurrency, "Envoy worker threads when the pod sets no CPU limit or concurrency")
	fs.BoolVar(&d.Egress, "egress", d.Egress, "capture outbound traffic by default")
	fs.BoolVar(&d.IPv6, "ipv6", d.IPv6, "capture IPv6 by default")
	fs.Var((*portRanges)(&d.OpaquePorts), "opaque-ports", "ports and ranges passed through as TCP without sniffing (server-first protocols); pods add to them with planeless.dev/opaque-ports")
	fs.IntVar(&d.DrainSeconds, "drain-seconds", d.DrainSeconds, "default drain time of Envoy on shutdown")
	fs.StringVar((*string)(&d.AccessLogFormat), "access-log", string(d.AccessLogFormat), "access log format of pods without planeless.dev/access-log: json, text or off")
	fs.StringVar((*string)(&d.Tracing.Provider), "tracing", string(d.Tracing.Provider), "tracing of pods without planeless.dev/tracing: off, zipkin or otlp")
	fs.StringVar(&d.Tracing.Endpoint, "tracing-endpoint", d.Tracing.Endpoint, "HOST:PORT of the cluster-wide tracing collector")
	fs.Float64Var(&d.Tracing.SamplingPercent, "tracing-sampling", d.Tracing.SamplingPercent, "percent of requests that start a trace")
	fs.StringVar((*string)(&d.EgressPolicy), "egress-policy", string(d.EgressPolicy), "egress of pods without planeless.dev/egress-policy: open or allow-list")
	fs.Var((*cidrList)(&d.EgressAllowedCIDRs), "egress-allowed-cidrs", "ranges every pod in allow-list mode may reach (the cluster's pod and Service ranges)")
	fs.StringVar(&d.ClusterDomain, "cluster-domain", d.ClusterDomain, "the cluster's DNS domain, which ends its Service names")
	fs.Uint16Var(&d.Ports.Inbound, "proxy-inbound-port", d.Ports.Inbound, "port of Envoy's inbound listener")
	fs.Uint16Var(&d.Ports.Outbound, "proxy-outbound-port", d.Ports.Outbound, "port of Envoy's outbound listener")
	fs.Uint16Var(&d.Ports.Stats, "proxy-stats-port", d.Ports.Stats, "port of Envoy's stats listener (/stats/prometheus, /ready)")
}

func (f *injectorFlags) injector() (*inject.Injector, error) {
	if err := f.defaults.Validate(); err != nil {
		return nil, fmt.Errorf("invalid injection defaults: %w", err)
	}
	set := templates.Default()
	if f.templates != "" {
		var err error
		if set, err = templates.Load(f.templates); err != nil {
			return nil, fmt.Errorf("loading templates: %w", err)
		}
	}
	return &inject.Injector{Defaults: f.defaults, Templates: set}, nil
}

// portRanges is a flag holding comma-separated ports and ranges.
type portRanges []proxy.PortRange

func (r *portRanges) String() string {
	parts := make([]string, len(*r))
	for i, pr := range *r {
		parts[i] = pr.String()
	}
	return strings.Join(parts, ",")
}

func (r *portRanges) Set(v string) error {
	ranges, err := proxy.ParsePortRanges(v)
	if err != nil {
		return err
	}
	*r = ranges
	return nil
}

func (r *portRanges) Type() string { return "ports" }

// cidrList is a flag holding comma-separated CIDRs or addresses.
type cidrList []netip.Prefix

func (c *cidrList) String() string {
	parts := make([]string, len(*c))
	for i, p := range *c {
		parts[i] = p.String()
	}
	return strings.Join(parts, ",")
}

func (c *cidrList) Set(v string) error {
	*c = nil
	for item := range strings.SplitSeq(v, ",") {
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		p, err := netip.ParsePrefix(item)
		if err != nil {
			a, aerr := netip.ParseAddr(item)
			if aerr != nil {
				return fmt.Errorf("%q is neither a CIDR nor an IP address", item)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		*c = append(*c, p.Masked())
	}
	return nil
}

func (c *cidrList) Type() string { return "cidrs" }
