package iptables

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"github.com/planeless/planeless/proxy"
)

// Config is everything the rules depend on.
type Config struct {
	// ProxyUID and ProxyGID are the user and group Envoy runs as; their
	// outbound connections are never redirected.
	ProxyUID int64
	ProxyGID int64

	// InboundProxyPort receives the redirected inbound connections.
	InboundProxyPort uint16
	// OutboundProxyPort receives the redirected outbound connections.
	OutboundProxyPort uint16
	// ProxyPorts are Envoy's own ports (listeners, admin, stats); inbound
	// connections to them are never redirected.
	ProxyPorts []uint16

	// InboundPorts are the application ports whose inbound connections go
	// through the proxy. Other ports reach the application directly.
	InboundPorts []uint16
	// ExcludeInboundPorts are never redirected, even when listed in
	// InboundPorts.
	ExcludeInboundPorts []uint16
	// ExcludeInboundCIDRs are source ranges whose connections reach the
	// application directly.
	ExcludeInboundCIDRs []netip.Prefix

	// Egress redirects the pod's outbound TCP to the proxy.
	Egress bool
	// ExcludeOutboundPorts are destination ports never redirected.
	ExcludeOutboundPorts []uint16
	// ExcludeOutboundCIDRs are destination ranges never redirected.
	ExcludeOutboundCIDRs []netip.Prefix

	// IPv6 installs the same rules with ip6tables.
	IPv6 bool

	// ProbePorts are the ports kubelet TCP probes are rewritten to: each
	// reaches its Target, the application's port, without the proxy.
	ProbePorts []ProbePort
}

// ProbePort is a port that leads straight to an application port.
type ProbePort struct {
	Port, Target uint16
}

// DefaultConfig is the Config of a pod with planeless's default proxy
// settings and no intercepted ports; the flags of `planeless init` start
// from it.
func DefaultConfig() Config {
	d := proxy.DefaultDefaults()
	return FromSpec(&proxy.Spec{
		Egress: d.Egress,
		IPv6:   d.IPv6,
		Proxy:  proxy.Sidecar{UID: d.ProxyUID, GID: d.ProxyGID, Ports: d.Ports},
	})
}

// FromSpec returns the Config of the pod described by s: what the injector
// hands to the init container, through Args.
func FromSpec(s *proxy.Spec) Config {
	inbound := make([]uint16, 0, len(s.Inbound))
	for _, p := range s.Inbound {
		inbound = append(inbound, p.Number)
	}
	return Config{
		ProxyUID:             s.Proxy.UID,
		ProxyGID:             s.Proxy.GID,
		InboundProxyPort:     s.Proxy.Ports.Inbound,
		OutboundProxyPort:    s.Proxy.Ports.Outbound,
		ProxyPorts:           sortedPorts(s.Proxy.Ports.All()),
		InboundPorts:         sortedPorts(inbound),
		ExcludeInboundPorts:  sortedPorts(s.ExcludeInboundPorts),
		ExcludeInboundCIDRs:  sortedPrefixes(s.ExcludeInboundCIDRs),
		Egress:               s.Egress,
		ExcludeOutboundPorts: sortedPorts(s.ExcludeOutboundPorts),
		ExcludeOutboundCIDRs: sortedPrefixes(s.ExcludeOutboundCIDRs),
		IPv6:                 s.IPv6,
		ProbePorts:           probePorts(s.Probes),
	}
}

func probePorts(probes []proxy.TCPProbe) []ProbePort {
	var out []ProbePort
	for _, p := range probes {
		out = append(out, ProbePort{Port: p.ProbePort, Target: p.Target})
	}
	return out
}

// Validate reports a Config whose rules would not work.
func (c Config) Validate() error {
	var errs []error
	if c.ProxyUID < 0 {
		errs = append(errs, fmt.Errorf("proxy uid %d is negative", c.ProxyUID))
	}
	if c.ProxyGID < 0 {
		errs = append(errs, fmt.Errorf("proxy gid %d is negative", c.ProxyGID))
	}
	if c.InboundProxyPort == 0 {
		errs = append(errs, errors.New("inbound proxy port is not set"))
	}
	if c.OutboundProxyPort == 0 {
		errs = append(errs, errors.New("outbound proxy port is not set"))
	}
	if c.InboundProxyPort != 0 && c.InboundProxyPort == c.OutboundProxyPort {
		errs = append(errs, fmt.Errorf("inbound and outbound proxy ports are both %d", c.InboundProxyPort))
	}
	for _, p := range c.InboundPorts {
		if slices.Contains(c.ProxyPorts, p) || p == c.InboundProxyPort || p == c.OutboundProxyPort {
			errs = append(errs, fmt.Errorf("inbound port %d is one of the proxy's own ports", p))
		}
	}
	for _, pp := range c.ProbePorts {
		if pp.Port == 0 || pp.Target == 0 {
			errs = append(errs, fmt.Errorf("probe port %d:%d has a zero port", pp.Port, pp.Target))
		}
		if slices.Contains(c.ProxyPorts, pp.Port) || slices.Contains(c.InboundPorts, pp.Port) {
			errs = append(errs, fmt.Errorf("probe port %d is also a proxy or an intercepted port", pp.Port))
		}
	}
	for _, list := range [][]uint16{c.ProxyPorts, c.InboundPorts, c.ExcludeInboundPorts, c.ExcludeOutboundPorts} {
		if slices.Contains(list, 0) {
			errs = append(errs, errors.New("port 0 is not a port"))
			break
		}
	}
	return errors.Join(errs...)
}

func sortedPorts(ports []uint16) []uint16 {
	if len(ports) == 0 {
		return nil
	}
	out := slices.Clone(ports)
	slices.Sort(out)
	return slices.Compact(out)
}

func sortedPrefixes(prefixes []netip.Prefix) []netip.Prefix {
	if len(prefixes) == 0 {
		return nil
	}
	out := make([]netip.Prefix, 0, len(prefixes))
	for _, p := range prefixes {
		out = append(out, p.Masked())
	}
	slices.SortFunc(out, func(a, b netip.Prefix) int {
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c
		}
		return a.Bits() - b.Bits()
	})
	return slices.Compact(out)
}
