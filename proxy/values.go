package proxy

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// value is the kind of an annotation's value: what it accepts, said once
// for the documentation and the error messages, and where it goes in the
// Spec.
type value struct {
	allowed string
	apply   func(s *Spec, v string) error
}

func boolean(field func(*Spec) *bool) value {
	return value{allowed: "true, false", apply: func(s *Spec, v string) error {
		b, err := parseBool(v)
		*field(s) = b
		return err
	}}
}

// ports adds the listed ports to the field, so a pod's list extends the
// operator's defaults instead of replacing them.
func ports(field func(*Spec) *[]uint16) value {
	return value{allowed: "comma-separated ports 1-65535", apply: func(s *Spec, v string) error {
		list, err := parsePortList(v)
		*field(s) = mergePorts(*field(s), list)
		return err
	}}
}

// portRanges adds the listed ports and ranges to the field, so a pod's list
// extends the operator's defaults instead of replacing them.
func portRanges(field func(*Spec) *[]PortRange) value {
	return value{allowed: "comma-separated ports 1-65535 or ranges (8000-8010)", apply: func(s *Spec, v string) error {
		list, err := ParsePortRanges(v)
		*field(s) = mergeRanges(*field(s), list)
		return err
	}}
}

func cidrs(field func(*Spec) *[]netip.Prefix) value {
	return value{allowed: "comma-separated IPv4 or IPv6 CIDRs or addresses", apply: func(s *Spec, v string) error {
		list, err := parseCIDRList(v)
		*field(s) = list
		return err
	}}
}

func integer(lo, hi int, field func(*Spec) *int) value {
	return value{allowed: fmt.Sprintf("an integer from %d to %d", lo, hi), apply: func(s *Spec, v string) error {
		n, err := parseInt(v, lo, hi)
		*field(s) = n
		return err
	}}
}

// oneOf accepts one of choices, in any case.
func oneOf[T ~string](choices []T, what string, field func(*Spec) *T) value {
	return value{allowed: list(choices), apply: func(s *Spec, v string) error {
		c := T(strings.ToLower(strings.TrimSpace(v)))
		if !slices.Contains(choices, c) {
			return fmt.Errorf("unknown %s", what)
		}
		*field(s) = c
		return nil
	}}
}

func headerNames(field func(*Spec) *[]string) value {
	return value{
		allowed: fmt.Sprintf("comma-separated HTTP header names (letters, digits, '-'), at most %d", maxLoggedHeaders),
		apply: func(s *Spec, v string) error {
			names, err := parseHeaderNames(v)
			*field(s) = names
			return err
		},
	}
}

// The resource lists of the proxy a quantity annotation sets.
var (
	requests = func(s *Spec) *corev1.ResourceList { return &s.Proxy.Resources.Requests }
	limits   = func(s *Spec) *corev1.ResourceList { return &s.Proxy.Resources.Limits }
)

func quantity(list func(*Spec) *corev1.ResourceList, name corev1.ResourceName, example string) value {
	what := "CPU"
	if name == corev1.ResourceMemory {
		what = "memory"
	}
	return value{
		allowed: fmt.Sprintf("a Kubernetes %s quantity, e.g. %s", what, example),
		apply:   func(s *Spec, v string) error { return setQuantity(list(s), name, v) },
	}
}

// list joins choices for documentation and error messages.
func list[T ~string](choices []T) string {
	names := make([]string, len(choices))
	for i, c := range choices {
		names[i] = string(c)
	}
	return strings.Join(names, ", ")
}
