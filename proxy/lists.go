package proxy

import (
	"fmt"
	"math/bits"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// The one parser of lists: ports, port ranges (8000-8010, as Linkerd
// accepts) and CIDRs, for annotations, flags and chart values alike. Every
// list is comma-separated, blanks around items are ignored, and the count is
// checked while reading, before anything is built for an item past the
// bound.

// eachItem calls f with every non-blank item of the list, trimmed, and
// stops at the first error.
func eachItem(v string, f func(item string) error) error {
	for item := range strings.SplitSeq(v, ",") {
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		if err := f(item); err != nil {
			return err
		}
	}
	return nil
}

// splitList returns the non-blank items of a comma-separated list, trimmed
// (an annotation value is bounded, so the list is).
func splitList(v string) []string {
	var items []string
	_ = eachItem(v, func(item string) error { items = append(items, item); return nil })
	return items
}

// errNoItem is the error of a list that names nothing.
func errNoItem(what string) error { return fmt.Errorf("no %s given", what) }

// ParsePort parses one port, 1-65535.
func ParsePort(v string) (uint16, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return 0, fmt.Errorf("port %s is not a number", Echo(v))
	}
	if n < 1 || n > 65535 {
		return 0, fmt.Errorf("port %d is out of range", n)
	}
	return uint16(n), nil
}

// parsePortRange parses PORT or LOW-HIGH.
func parsePortRange(item string) (lo, hi uint16, err error) {
	low, high, isRange := strings.Cut(item, "-")
	if lo, err = ParsePort(low); err != nil || !isRange {
		return lo, lo, err
	}
	if hi, err = ParsePort(high); err != nil {
		return 0, 0, err
	}
	if hi < lo {
		return 0, 0, fmt.Errorf("port range %s ends before it starts", Echo(item))
	}
	return lo, hi, nil
}

func portRange(lo, hi uint16) string {
	if lo == hi {
		return strconv.Itoa(int(lo))
	}
	return fmt.Sprintf("%d-%d", lo, hi)
}

// portSet is a set of ports with a bounded count.
type portSet struct {
	bits  [65536 / 64]uint64
	count int
}

func (s *portSet) has(p uint16) bool { return s.bits[p/64]&(1<<(p%64)) != 0 }

// addRange adds lo..hi, refusing to go past MaxPorts before adding any.
func (s *portSet) addRange(lo, hi uint16) error {
	n := 0
	for p := int(lo); p <= int(hi); p++ {
		if !s.has(uint16(p)) {
			n++
		}
	}
	if s.count+n > MaxPorts {
		return fmt.Errorf("more than %d ports", MaxPorts)
	}
	for p := int(lo); p <= int(hi); p++ {
		s.bits[p/64] |= 1 << (p % 64)
	}
	s.count += n
	return nil
}

// sorted lists the ports in order, a word of 64 at a time: a set holds a
// handful of ports among 65,536.
func (s *portSet) sorted() []uint16 {
	out := make([]uint16, 0, s.count)
	for i, w := range s.bits {
		for w != 0 {
			out = append(out, uint16(i*64+bits.TrailingZeros64(w)))
			w &= w - 1
		}
	}
	return out
}

// ParsePorts parses a list of ports and ranges ("5432, 8000-8010") into
// sorted, unique ports, at most MaxPorts of them. An empty list is empty.
func ParsePorts(v string) ([]uint16, error) {
	var set portSet
	err := eachItem(v, func(item string) error {
		lo, hi, err := parsePortRange(item)
		if err != nil {
			return err
		}
		return set.addRange(lo, hi)
	})
	if err != nil {
		return nil, err
	}
	return set.sorted(), nil
}

// parseInboundPorts parses "8080:http,9090:grpc,7000,8000-8010:tcp" into
// ports sorted by number; a port without a protocol is auto.
func parseInboundPorts(v string) ([]Port, error) {
	var set portSet
	protocols := map[uint16]Protocol{}
	declared := map[uint16]bool{}
	err := eachItem(v, func(item string) error {
		numbers, proto, hasProto := strings.Cut(item, ":")
		lo, hi, err := parsePortRange(numbers)
		if err != nil {
			return err
		}
		p := ProtocolAuto
		if hasProto {
			p = Protocol(strings.ToLower(strings.TrimSpace(proto)))
			if !slices.Contains(Protocols, p) {
				return fmt.Errorf("protocol %s of port %s is unknown", Echo(proto), portRange(lo, hi))
			}
		}
		for n := int(lo); n <= int(hi); n++ {
			if set.has(uint16(n)) {
				return fmt.Errorf("port %d is listed twice", n)
			}
		}
		if err := set.addRange(lo, hi); err != nil {
			return err
		}
		for n := int(lo); n <= int(hi); n++ {
			protocols[uint16(n)] = p
			declared[uint16(n)] = hasProto
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if set.count == 0 {
		return nil, errNoItem("port")
	}
	ports := make([]Port, 0, set.count)
	for _, n := range set.sorted() {
		ports = append(ports, Port{Number: n, Protocol: protocols[n], Declared: declared[n]})
	}
	return ports, nil
}

// ParsePortRanges parses "3306, 8000-8010" into sorted ranges, overlapping
// or adjacent ranges merged, at most MaxPorts items: unlike ParsePorts it
// keeps ranges whole, for lists that may name every port (1-65535).
func ParsePortRanges(v string) ([]PortRange, error) {
	var ranges []PortRange
	err := eachItem(v, func(item string) error {
		if len(ranges) == MaxPorts {
			return fmt.Errorf("more than %d ports or ranges", MaxPorts)
		}
		lo, hi, err := parsePortRange(item)
		ranges = append(ranges, PortRange{lo, hi})
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(ranges) == 0 {
		return nil, errNoItem("port")
	}
	return mergeRanges(nil, ranges), nil
}

// mergeRanges returns a and b sorted, overlapping and adjacent ranges
// joined.
func mergeRanges(a, b []PortRange) []PortRange {
	all := slices.Concat(a, b)
	slices.SortFunc(all, func(x, y PortRange) int { return int(x.First) - int(y.First) })
	var out []PortRange
	for _, r := range all {
		if n := len(out); n > 0 && int(r.First) <= int(out[n-1].Last)+1 {
			out[n-1].Last = max(out[n-1].Last, r.Last)
			continue
		}
		out = append(out, r)
	}
	return out
}

// ParseCIDRs parses "10.0.0.0/8, fd00::/8, 192.168.1.1" into masked,
// sorted, unique prefixes, at most MaxCIDRs of them; a bare address is a
// single-host prefix. An empty list is empty.
func ParseCIDRs(v string) ([]netip.Prefix, error) {
	var cidrs []netip.Prefix
	err := eachItem(v, func(item string) error {
		if len(cidrs) == MaxCIDRs {
			return fmt.Errorf("more than %d CIDRs", MaxCIDRs)
		}
		p, err := netip.ParsePrefix(item)
		if err != nil {
			addr, aerr := netip.ParseAddr(item)
			if aerr != nil {
				return fmt.Errorf("%s is neither a CIDR nor an IP address", Echo(item))
			}
			p = netip.PrefixFrom(addr, addr.BitLen())
		}
		cidrs = append(cidrs, p.Masked())
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(cidrs, func(a, b netip.Prefix) int {
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c
		}
		return a.Bits() - b.Bits()
	})
	return slices.Compact(cidrs), nil
}

// parseHeaderNames parses "X-Customer-Id, x-tenant" into lower-case header
// names, at most maxLoggedHeaders. Only letters, digits and '-' are
// accepted: they are all a header name needs, and none of them means
// anything in an Envoy format string or a JSON key.
func parseHeaderNames(v string) ([]string, error) {
	var names []string
	err := eachItem(v, func(item string) error {
		if len(names) == maxLoggedHeaders {
			return fmt.Errorf("more than %d headers", maxLoggedHeaders)
		}
		name := strings.ToLower(item)
		if err := checkHeaderName(name); err != nil {
			return err
		}
		if slices.Contains(names, name) {
			return fmt.Errorf("header %s is listed twice", Echo(item))
		}
		names = append(names, name)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, errNoItem("header name")
	}
	return names, nil
}

func checkHeaderName(name string) error {
	if len(name) > maxHeaderNameLength {
		return fmt.Errorf("header name %s is longer than %d characters", Echo(name), maxHeaderNameLength)
	}
	for i, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		case r == '-' && i > 0 && i < len(name)-1:
		default:
			return fmt.Errorf("%s is not a header name (letters, digits and inner '-' only)", Echo(name))
		}
	}
	return nil
}
