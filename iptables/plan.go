package iptables

import (
	"net/netip"
	"strconv"
	"strings"
)

// maxMultiport is how many ports one multiport match takes.
const maxMultiport = 15

// Plan returns the rules for c, IPv4 first and then, when c.IPv6, the same
// for IPv6, in the order Apply installs them: the rules of planeless's own
// chains, then the jumps into them from PREROUTING and OUTPUT. Only TCP is
// ever redirected.
func Plan(c Config) []Rule {
	rules := planFamily(c, IPv4)
	if c.IPv6 {
		rules = append(rules, planFamily(c, IPv6)...)
	}
	return rules
}

func planFamily(c Config, f Family) []Rule {
	p := planner{family: f}
	loopback, inboundSource := "127.0.0.1/32", InboundSourceV4+"/32"
	if f == IPv6 {
		loopback, inboundSource = "::1/128", InboundSourceV6+"/128"
	}
	uid := strconv.FormatInt(c.ProxyUID, 10)
	gid := strconv.FormatInt(c.ProxyGID, 10)

	// Inbound: a kubelet's TCP probe, rewritten to a probe port, reaches
	// the application's port directly, so that it fails when the
	// application does not accept connections (Envoy would accept them);
	// Envoy's own ports and excluded sources reach their listener directly,
	// intercepted ports go to the inbound listener, anything else reaches
	// the application directly.
	for _, pp := range c.ProbePorts {
		p.add(ChainInbound, "inbound-probe", tcpDports([]uint16{pp.Port}), "REDIRECT", "--to-ports", strconv.Itoa(int(pp.Target)))
	}
	for _, ports := range chunks(c.ProxyPorts) {
		p.add(ChainInbound, "inbound-skip-proxy-ports", tcpDports(ports), "RETURN")
	}
	for _, ports := range chunks(c.ExcludeInboundPorts) {
		p.add(ChainInbound, "inbound-skip-excluded-ports", tcpDports(ports), "RETURN")
	}
	for _, cidr := range prefixesOf(c.ExcludeInboundCIDRs, f) {
		p.add(ChainInbound, "inbound-skip-excluded-cidr", []string{"-s", cidr, "-p", "tcp"}, "RETURN")
	}
	for _, ports := range chunks(c.InboundPorts) {
		p.add(ChainInbound, "inbound-intercept", tcpDports(ports), ChainInRedirect)
	}
	p.add(ChainInRedirect, "inbound-redirect", []string{"-p", "tcp"}, "REDIRECT", "--to-ports", strconv.Itoa(int(c.InboundProxyPort)))

	// Outbound, in this order so that nothing loops:
	// Envoy forwarding an inbound connection to the application (from its
	// dedicated source address) reaches the application;
	// Envoy calling the pod's own address on an intercepted port (a
	// Service or the pod IP that leads back here) reaches the inbound
	// listener, as a connection from outside would.
	if len(c.InboundPorts) > 0 {
		p.add(ChainOutput, "outbound-skip-inbound-source", []string{"-s", inboundSource, "-o", "lo"}, "RETURN")
	}
	for _, ports := range chunks(c.InboundPorts) {
		match := append([]string{"!", "-d", loopback, "-o", "lo"}, tcpDports(ports)...)
		match = append(match, "-m", "owner", "--uid-owner", uid)
		p.add(ChainOutput, "outbound-proxy-self-call", match, ChainInRedirect)
	}
	if c.Egress {
		// The application calling itself (localhost or its pod IP) stays
		// local; Envoy's own connections and loopback leave untouched.
		p.add(ChainOutput, "outbound-skip-local", []string{"-o", "lo", "-m", "owner", "!", "--uid-owner", uid}, "RETURN")
		p.add(ChainOutput, "outbound-skip-proxy-uid", []string{"-m", "owner", "--uid-owner", uid}, "RETURN")
		p.add(ChainOutput, "outbound-skip-proxy-gid", []string{"-m", "owner", "--gid-owner", gid}, "RETURN")
		p.add(ChainOutput, "outbound-skip-loopback", []string{"-d", loopback}, "RETURN")
		for _, ports := range chunks(c.ExcludeOutboundPorts) {
			p.add(ChainOutput, "outbound-skip-excluded-ports", tcpDports(ports), "RETURN")
		}
		for _, cidr := range prefixesOf(c.ExcludeOutboundCIDRs, f) {
			p.add(ChainOutput, "outbound-skip-excluded-cidr", []string{"-d", cidr}, "RETURN")
		}
		p.add(ChainOutput, "outbound-intercept", nil, ChainRedirect)
		p.add(ChainRedirect, "outbound-redirect", []string{"-p", "tcp"}, "REDIRECT", "--to-ports", strconv.Itoa(int(c.OutboundProxyPort)))
	}

	rules := p.rules
	for _, j := range jumps(f) {
		if p.uses(j.target) {
			rules = append(rules, j.rule)
		}
	}
	return rules
}

// jump is a rule in a built-in chain that enters one of planeless's chains.
type jump struct {
	rule   Rule
	target string
}

// jumps returns the jumps from the built-in chains, for TCP only. They are
// the same whatever the Config, so a cleanup finds them without knowing
// the Config they were installed with.
func jumps(f Family) []jump {
	return []jump{
		{rule: rule(f, "PREROUTING", "inbound", []string{"-p", "tcp"}, ChainInbound), target: ChainInbound},
		{rule: rule(f, "OUTPUT", "outbound", []string{"-p", "tcp"}, ChainOutput), target: ChainOutput},
	}
}

type planner struct {
	family Family
	rules  []Rule
}

func (p *planner) add(chain, purpose string, match []string, target ...string) {
	p.rules = append(p.rules, rule(p.family, chain, purpose, match, target...))
}

func (p *planner) uses(chain string) bool {
	for _, r := range p.rules {
		if r.Chain == chain {
			return true
		}
	}
	return false
}

// rule builds a nat rule: the matches, the comment naming its purpose, then
// the target and its options.
func rule(f Family, chain, purpose string, match []string, target ...string) Rule {
	spec := make([]string, 0, len(match)+len(target)+5)
	spec = append(spec, match...)
	spec = append(spec, "-m", "comment", "--comment", CommentPrefix+purpose, "-j")
	spec = append(spec, target...)
	return Rule{Family: f, Table: TableNAT, Chain: chain, Spec: spec}
}

func tcpDports(ports []uint16) []string {
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = strconv.Itoa(int(p))
	}
	return []string{"-p", "tcp", "-m", "multiport", "--dports", strings.Join(s, ",")}
}

// chunks splits ports into groups a multiport match accepts.
func chunks(ports []uint16) [][]uint16 {
	var out [][]uint16
	for len(ports) > maxMultiport {
		out = append(out, ports[:maxMultiport])
		ports = ports[maxMultiport:]
	}
	if len(ports) > 0 {
		out = append(out, ports)
	}
	return out
}

// prefixesOf returns the prefixes of family f, as iptables arguments.
func prefixesOf(prefixes []netip.Prefix, f Family) []string {
	var out []string
	for _, p := range prefixes {
		if p.Addr().Is4() == (f == IPv4) {
			out = append(out, p.String())
		}
	}
	return out
}
