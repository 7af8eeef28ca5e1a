package proxy

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

// value is the kind of an annotation's value: what it accepts, said once
// for the documentation and the error messages, and where it goes in the
// Spec. Choices and Range describe it for checks outside Go (the chart's
// values.schema.json is tested against them).
type value struct {
	allowed string
	apply   func(s *Spec, v string) error
	// choices, when set, are the only values accepted (in any case).
	choices []string
	// min and max, when set, bound a number.
	min, max *float64
	isBool   bool
	// maxBytes, when set, replaces MaxAnnotationBytes: a YAML value is
	// longer than a list.
	maxBytes int
}

func boolean(field func(*Spec) *bool) value {
	return value{allowed: "true, false", isBool: true, apply: func(s *Spec, v string) error {
		b, err := parseBool(v)
		*field(s) = b
		return err
	}}
}

// ports adds the listed ports to the field, so a pod's list extends the
// operator's defaults instead of replacing them.
func ports(field func(*Spec) *[]uint16) value {
	return value{
		allowed: fmt.Sprintf("comma-separated ports 1-65535 or ranges LOW-HIGH, at most %d ports", MaxPorts),
		apply: func(s *Spec, v string) error {
			list, err := ParsePorts(v)
			if err == nil && len(list) == 0 {
				err = errNoItem("port")
			}
			if err != nil {
				return err
			}
			merged := slices.Concat(*field(s), list)
			slices.Sort(merged)
			*field(s) = slices.Compact(merged)
			return nil
		},
	}
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
	return value{
		allowed: fmt.Sprintf("comma-separated IPv4 or IPv6 CIDRs or addresses, at most %d", MaxCIDRs),
		apply: func(s *Spec, v string) error {
			list, err := ParseCIDRs(v)
			if err == nil && len(list) == 0 {
				err = errNoItem("CIDR")
			}
			*field(s) = list
			return err
		},
	}
}

func integer(lo, hi int, field func(*Spec) *int) value {
	return value{
		allowed: fmt.Sprintf("an integer from %d to %d", lo, hi),
		min:     ptr.To(float64(lo)), max: ptr.To(float64(hi)),
		apply: func(s *Spec, v string) error {
			n, err := parseInt(v, lo, hi)
			*field(s) = n
			return err
		},
	}
}

func percent(field func(*Spec) *float64) value {
	return value{
		allowed: "a percentage from 0 to 100, decimals allowed (0.5)",
		min:     ptr.To(0.0), max: ptr.To(100.0),
		apply: func(s *Spec, v string) error {
			f, err := parsePercent(v)
			*field(s) = f
			return err
		},
	}
}

// oneOf accepts one of choices, in any case.
func oneOf[T ~string](choices []T, what string, field func(*Spec) *T) value {
	names := make([]string, len(choices))
	for i, c := range choices {
		names[i] = string(c)
	}
	return value{allowed: list(choices), choices: names, apply: func(s *Spec, v string) error {
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
