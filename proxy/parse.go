package proxy

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

var logLevels = []string{"trace", "debug", "info", "warning", "error", "critical", "off"}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "enabled":
		return true, nil
	case "false", "disabled":
		return false, nil
	}
	return false, fmt.Errorf("not a boolean")
}

func parseInt(v string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return 0, fmt.Errorf("not an integer")
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("%d is out of range", n)
	}
	return n, nil
}

func parsePort(v string) (uint16, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return 0, fmt.Errorf("port %q is not a number", v)
	}
	if n < 1 || n > 65535 {
		return 0, fmt.Errorf("port %d is out of range", n)
	}
	return uint16(n), nil
}

// splitList splits a comma-separated list, ignoring blanks around items.
// An empty or blank value is an empty list.
func splitList(v string) []string {
	var items []string
	for item := range strings.SplitSeq(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			items = append(items, item)
		}
	}
	return items
}

// parsePorts parses "8080:http,9090:grpc,7000" into ports sorted by number.
func parsePorts(v string) ([]Port, error) {
	items := splitList(v)
	if len(items) == 0 {
		return nil, fmt.Errorf("no port given")
	}
	ports := make([]Port, 0, len(items))
	for _, item := range items {
		num, proto, hasProto := strings.Cut(item, ":")
		n, err := parsePort(num)
		if err != nil {
			return nil, err
		}
		p := Port{Number: n, Protocol: ProtocolAuto}
		if hasProto {
			p.Declared = true
			p.Protocol = Protocol(strings.ToLower(strings.TrimSpace(proto)))
			if !slices.Contains(Protocols, p.Protocol) {
				return nil, fmt.Errorf("protocol %q of port %d is unknown", proto, n)
			}
		}
		if slices.ContainsFunc(ports, func(q Port) bool { return q.Number == n }) {
			return nil, fmt.Errorf("port %d is listed twice", n)
		}
		ports = append(ports, p)
	}
	slices.SortFunc(ports, func(a, b Port) int { return int(a.Number) - int(b.Number) })
	return ports, nil
}

// parsePortList parses "5432,6379" into sorted, unique ports.
func parsePortList(v string) ([]uint16, error) {
	var ports []uint16
	for _, item := range splitList(v) {
		n, err := parsePort(item)
		if err != nil {
			return nil, err
		}
		ports = append(ports, n)
	}
	return mergePorts(nil, ports), nil
}

// ParsePortRanges parses "3306,8000-8010" into sorted ranges, overlapping
// or adjacent ranges merged.
func ParsePortRanges(v string) ([]PortRange, error) {
	items := splitList(v)
	if len(items) == 0 {
		return nil, fmt.Errorf("no port given")
	}
	ranges := make([]PortRange, 0, len(items))
	for _, item := range items {
		first, last, isRange := strings.Cut(item, "-")
		lo, err := parsePort(first)
		if err != nil {
			return nil, err
		}
		hi := lo
		if isRange {
			if hi, err = parsePort(last); err != nil {
				return nil, err
			}
			if hi < lo {
				return nil, fmt.Errorf("range %s ends before it starts", item)
			}
		}
		ranges = append(ranges, PortRange{lo, hi})
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

func mergePorts(a, b []uint16) []uint16 {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}

// parseCIDRList parses "10.0.0.0/8,fd00::/8,192.168.1.1" into masked
// prefixes; a bare address is a single-host prefix.
func parseCIDRList(v string) ([]netip.Prefix, error) {
	items := splitList(v)
	if len(items) == 0 {
		return nil, fmt.Errorf("no CIDR given")
	}
	cidrs := make([]netip.Prefix, 0, len(items))
	for _, item := range items {
		p, err := netip.ParsePrefix(item)
		if err != nil {
			addr, aerr := netip.ParseAddr(item)
			if aerr != nil {
				return nil, fmt.Errorf("%q is neither a CIDR nor an IP address", item)
			}
			p = netip.PrefixFrom(addr, addr.BitLen())
		}
		cidrs = append(cidrs, p.Masked())
	}
	slices.SortFunc(cidrs, func(a, b netip.Prefix) int {
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c
		}
		return a.Bits() - b.Bits()
	})
	return slices.Compact(cidrs), nil
}

func setQuantity(list *corev1.ResourceList, name corev1.ResourceName, v string) error {
	q, err := resource.ParseQuantity(strings.TrimSpace(v))
	if err != nil {
		return fmt.Errorf("not a quantity")
	}
	if q.Sign() <= 0 {
		return fmt.Errorf("must be greater than zero")
	}
	if *list == nil {
		*list = corev1.ResourceList{}
	}
	(*list)[name] = q
	return nil
}
