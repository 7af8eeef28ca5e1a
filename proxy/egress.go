package proxy

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// MaxEgressAllow bounds the entries of planeless.dev/egress-allow, and
// MaxEgressPorts the distinct ports its address ranges name (each adds
// clusters to the bootstrap).
const (
	MaxEgressAllow = 64
	MaxEgressPorts = 8
)

// EgressAllowAllowed is what planeless.dev/egress-allow accepts.
const EgressAllowAllowed = "comma-separated host names (api.github.com), wildcards (*.googleapis.com), IP addresses and CIDRs (10.0.0.0/8), each optionally :PORT ([...]:PORT for IPv6)"

// parseEgressAllow reads planeless.dev/egress-allow into names and ranges.
func parseEgressAllow(v string) ([]AllowedName, []AllowedCIDR, error) {
	items := splitList(v)
	if len(items) == 0 {
		return nil, nil, fmt.Errorf("no entry given")
	}
	if len(items) > MaxEgressAllow {
		return nil, nil, fmt.Errorf("%d entries, at most %d", len(items), MaxEgressAllow)
	}
	var names []AllowedName
	var cidrs []AllowedCIDR
	for _, item := range items {
		if c, ok, err := parseAllowedCIDR(item); ok {
			if err != nil {
				return nil, nil, err
			}
			if !slices.Contains(cidrs, c) {
				cidrs = append(cidrs, c)
			}
			continue
		}
		n, err := parseAllowedName(item)
		if err != nil {
			return nil, nil, err
		}
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	// TLS tells names apart by server name only: a name goes to one port,
	// or to any.
	byName := map[AllowedName][]uint16{}
	for _, n := range names {
		key := AllowedName{Name: n.Name, Wildcard: n.Wildcard}
		byName[key] = append(byName[key], n.Port)
	}
	names = slices.DeleteFunc(names, func(n AllowedName) bool {
		return n.Port != 0 && slices.Contains(byName[AllowedName{Name: n.Name, Wildcard: n.Wildcard}], 0)
	})
	for key, ports := range byName {
		if !slices.Contains(ports, 0) && len(ports) > 1 {
			return nil, nil, fmt.Errorf("%s is listed with ports %d and %d: list it once, without a port, to allow every port", key, ports[0], ports[1])
		}
	}
	ports := map[uint16]bool{}
	for _, c := range cidrs {
		if c.Port != 0 {
			ports[c.Port] = true
		}
	}
	if len(ports) > MaxEgressPorts {
		return nil, nil, fmt.Errorf("address ranges on %d different ports, at most %d", len(ports), MaxEgressPorts)
	}
	return names, cidrs, nil
}

// parseAllowedCIDR reads an address or range, optionally with a port:
// 10.1.2.3, 10.0.0.0/8:5432, fd00::/8, [fd00::/8]:443. ok is false when
// item is not an address at all (a name).
func parseAllowedCIDR(item string) (AllowedCIDR, bool, error) {
	addr, port := item, ""
	switch {
	case strings.HasPrefix(item, "["):
		end := strings.Index(item, "]")
		if end < 0 {
			return AllowedCIDR{}, true, fmt.Errorf("%q: no closing ]", item)
		}
		addr, port = item[1:end], strings.TrimPrefix(item[end+1:], ":")
		if item[end+1:] != "" && !strings.HasPrefix(item[end+1:], ":") {
			return AllowedCIDR{}, true, fmt.Errorf("%q: want [ADDRESS]:PORT", item)
		}
	case strings.Count(item, ":") == 1:
		addr, port, _ = strings.Cut(item, ":")
	}
	var c AllowedCIDR
	if p, err := netip.ParsePrefix(addr); err == nil {
		c.Prefix = p.Masked()
	} else if a, err := netip.ParseAddr(addr); err == nil {
		c.Prefix = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
	} else {
		if strings.HasPrefix(item, "[") || strings.Contains(addr, "/") {
			return AllowedCIDR{}, true, fmt.Errorf("%q is neither a CIDR nor an IP address", item)
		}
		return AllowedCIDR{}, false, nil
	}
	if port != "" {
		p, err := ParsePort(port)
		if err != nil {
			return AllowedCIDR{}, true, fmt.Errorf("%q: %w", item, err)
		}
		c.Port = p
	}
	if isLoopback(c.Prefix) {
		return AllowedCIDR{}, true, fmt.Errorf("%q is a loopback range: connections to it never leave the pod (and one dialled at the proxy itself would loop)", item)
	}
	return c, true, nil
}

var loopbacks = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// isLoopback reports whether p lies within a loopback range: allowing it
// would let connections dialled at the proxy's own ports through to them.
func isLoopback(p netip.Prefix) bool {
	for _, l := range loopbacks {
		if l.Bits() <= p.Bits() && l.Contains(p.Addr()) {
			return true
		}
	}
	return false
}

// parseAllowedName reads a host name or *.domain, optionally with a port.
func parseAllowedName(item string) (AllowedName, error) {
	name, port, hasPort := strings.Cut(strings.ToLower(item), ":")
	var n AllowedName
	if hasPort {
		p, err := ParsePort(port)
		if err != nil {
			return AllowedName{}, fmt.Errorf("%q: %w", item, err)
		}
		n.Port = p
	}
	if rest, ok := strings.CutPrefix(name, "*."); ok {
		n.Wildcard = true
		name = rest
		if !strings.Contains(name, ".") {
			return AllowedName{}, fmt.Errorf("%q is too broad: a wildcard needs a domain of at least two labels (*.example.com)", item)
		}
	}
	if len(validation.IsDNS1123Subdomain(name)) > 0 {
		return AllowedName{}, fmt.Errorf("%q is not a host name, a *.domain wildcard, an IP address or a CIDR", item)
	}
	n.Name = name
	return n, nil
}

// checkEgress refuses an allow-list that nothing would enforce and warns
// about an egress-allow that has no effect.
func checkEgress(s *Spec, annotations map[string]string) ([]string, error) {
	key := Prefix + "egress-policy"
	if s.Policy.Egress.Mode == EgressAllowList && !s.Egress {
		return nil, &InvalidAnnotationError{
			Annotation: key,
			Value:      string(s.Policy.Egress.Mode),
			Reason:     "an allow-list needs outbound capture, which " + Prefix + "egress: \"false\" turns off",
			Allowed:    list(EgressModes),
		}
	}
	if _, set := annotations[Prefix+"egress-allow"]; set && s.Policy.Egress.Mode != EgressAllowList {
		return []string{fmt.Sprintf("%segress-allow has no effect: %s is %s (set it to %s)", Prefix, key, s.Policy.Egress.Mode, EgressAllowList)}, nil
	}
	return nil, nil
}

// mergeAllowedCIDRs adds the operator's ranges (any port) to the pod's.
func mergeAllowedCIDRs(pod []AllowedCIDR, operator []netip.Prefix) []AllowedCIDR {
	out := slices.Clone(pod)
	for _, p := range operator {
		c := AllowedCIDR{Prefix: p.Masked()}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// validatePolicy checks the operator's egress and cluster defaults.
func (d Defaults) validatePolicy() []error {
	var errs []error
	if d.EgressPolicy != "" && !slices.Contains(EgressModes, d.EgressPolicy) {
		errs = append(errs, fmt.Errorf("egress policy %q is not one of %s", d.EgressPolicy, list(EgressModes)))
	}
	for _, p := range d.EgressAllowedCIDRs {
		if isLoopback(p) {
			errs = append(errs, fmt.Errorf("egress allowed range %s is a loopback range", p))
		}
	}
	if d.ClusterDomain != "" && len(validation.IsDNS1123Subdomain(d.ClusterDomain)) > 0 {
		errs = append(errs, fmt.Errorf("cluster domain %q is not a DNS name", d.ClusterDomain))
	}
	return errs
}
