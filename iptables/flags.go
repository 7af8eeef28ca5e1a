package iptables

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
)

// The flags of `planeless init`, one per Config field.
const (
	flagProxyUID             = "proxy-uid"
	flagProxyGID             = "proxy-gid"
	flagInboundProxyPort     = "inbound-proxy-port"
	flagOutboundProxyPort    = "outbound-proxy-port"
	flagProxyPorts           = "proxy-ports"
	flagInboundPorts         = "inbound-ports"
	flagExcludeInboundPorts  = "exclude-inbound-ports"
	flagExcludeInboundCIDRs  = "exclude-inbound-cidrs"
	flagEgress               = "egress"
	flagExcludeOutboundPorts = "exclude-outbound-ports"
	flagExcludeOutboundCIDRs = "exclude-outbound-cidrs"
	flagIPv6                 = "ipv6"
	flagProbePorts           = "probe-ports"
)

// BindFlags declares one flag per Config field on fs, with c's current
// values as defaults; parsing fs fills c.
func (c *Config) BindFlags(fs *pflag.FlagSet) {
	fs.Int64Var(&c.ProxyUID, flagProxyUID, c.ProxyUID, "user id Envoy runs as; its outbound connections are never redirected")
	fs.Int64Var(&c.ProxyGID, flagProxyGID, c.ProxyGID, "group id Envoy runs as; its outbound connections are never redirected")
	fs.Uint16Var(&c.InboundProxyPort, flagInboundProxyPort, c.InboundProxyPort, "port of Envoy's inbound listener")
	fs.Uint16Var(&c.OutboundProxyPort, flagOutboundProxyPort, c.OutboundProxyPort, "port of Envoy's outbound listener")
	fs.Var((*portList)(&c.ProxyPorts), flagProxyPorts, "Envoy's own ports, never redirected (comma-separated)")
	fs.Var((*portList)(&c.InboundPorts), flagInboundPorts, "application ports whose inbound connections go through Envoy (comma-separated)")
	fs.Var((*portList)(&c.ExcludeInboundPorts), flagExcludeInboundPorts, "inbound ports never redirected (comma-separated)")
	fs.Var((*prefixList)(&c.ExcludeInboundCIDRs), flagExcludeInboundCIDRs, "source CIDRs whose inbound connections reach the application directly (comma-separated)")
	fs.BoolVar(&c.Egress, flagEgress, c.Egress, "redirect outbound TCP to Envoy")
	fs.Var((*portList)(&c.ExcludeOutboundPorts), flagExcludeOutboundPorts, "outbound destination ports never redirected (comma-separated)")
	fs.Var((*prefixList)(&c.ExcludeOutboundCIDRs), flagExcludeOutboundCIDRs, "outbound destination CIDRs never redirected (comma-separated)")
	fs.BoolVar(&c.IPv6, flagIPv6, c.IPv6, "install the same rules with ip6tables")
	fs.Var((*probeList)(&c.ProbePorts), flagProbePorts, "PORT:TARGET pairs: connections to PORT reach the application's TARGET port without the proxy, for kubelet TCP probes (comma-separated)")
}

// Args returns the flags of `planeless init` that reproduce c, in a fixed
// order. Scalars are always written; lists only when not empty, except
// --proxy-ports, whose default is not empty.
func (c Config) Args() []string {
	args := []string{
		flagArg(flagProxyUID, strconv.FormatInt(c.ProxyUID, 10)),
		flagArg(flagProxyGID, strconv.FormatInt(c.ProxyGID, 10)),
		flagArg(flagInboundProxyPort, strconv.Itoa(int(c.InboundProxyPort))),
		flagArg(flagOutboundProxyPort, strconv.Itoa(int(c.OutboundProxyPort))),
		flagArg(flagProxyPorts, portList(c.ProxyPorts).String()),
	}
	args = appendList(args, flagInboundPorts, portList(c.InboundPorts).String())
	args = appendList(args, flagExcludeInboundPorts, portList(c.ExcludeInboundPorts).String())
	args = appendList(args, flagExcludeInboundCIDRs, prefixList(c.ExcludeInboundCIDRs).String())
	args = append(args, flagArg(flagEgress, strconv.FormatBool(c.Egress)))
	args = appendList(args, flagExcludeOutboundPorts, portList(c.ExcludeOutboundPorts).String())
	args = appendList(args, flagExcludeOutboundCIDRs, prefixList(c.ExcludeOutboundCIDRs).String())
	args = append(args, flagArg(flagIPv6, strconv.FormatBool(c.IPv6)))
	return appendList(args, flagProbePorts, probeList(c.ProbePorts).String())
}

func flagArg(name, value string) string { return "--" + name + "=" + value }

func appendList(args []string, name, value string) []string {
	if value == "" {
		return args
	}
	return append(args, flagArg(name, value))
}

// portList is a comma-separated list of ports; setting it replaces the
// whole list, so a default is overridden rather than extended.
type portList []uint16

func (l portList) String() string {
	s := make([]string, len(l))
	for i, p := range l {
		s[i] = strconv.Itoa(int(p))
	}
	return strings.Join(s, ",")
}

func (l *portList) Set(v string) error {
	*l = nil
	for _, f := range splitList(v) {
		n, err := strconv.ParseUint(f, 10, 16)
		if err != nil || n == 0 {
			return fmt.Errorf("invalid port %q", f)
		}
		*l = append(*l, uint16(n))
	}
	return nil
}

func (l *portList) Type() string { return "ports" }

// probeList is a comma-separated list of PORT:TARGET pairs.
type probeList []ProbePort

func (l probeList) String() string {
	s := make([]string, len(l))
	for i, p := range l {
		s[i] = strconv.Itoa(int(p.Port)) + ":" + strconv.Itoa(int(p.Target))
	}
	return strings.Join(s, ",")
}

func (l *probeList) Set(v string) error {
	*l = nil
	for _, f := range splitList(v) {
		port, target, ok := strings.Cut(f, ":")
		var pp portList
		if !ok || pp.Set(port+","+target) != nil || len(pp) != 2 {
			return fmt.Errorf("invalid probe port %q: want PORT:TARGET", f)
		}
		*l = append(*l, ProbePort{Port: pp[0], Target: pp[1]})
	}
	return nil
}

func (l *probeList) Type() string { return "probes" }

// prefixList is a comma-separated list of CIDRs; a bare address is a /32
// (or /128) prefix.
type prefixList []netip.Prefix

func (l prefixList) String() string {
	s := make([]string, len(l))
	for i, p := range l {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}

func (l *prefixList) Set(v string) error {
	*l = nil
	for _, f := range splitList(v) {
		p, err := parsePrefix(f)
		if err != nil {
			return err
		}
		*l = append(*l, p)
	}
	return nil
}

func (l *prefixList) Type() string { return "cidrs" }

func parsePrefix(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("invalid cidr %q", s)
		}
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("invalid cidr %q", s)
	}
	return p.Masked(), nil
}

func splitList(v string) []string {
	var out []string
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
