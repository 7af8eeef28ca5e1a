package proxy

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// parseEndpoint parses HOST:PORT, HOST a DNS name or an IP address.
func parseEndpoint(v string) (string, error) {
	v = strings.TrimSpace(v)
	host, portText, err := net.SplitHostPort(v)
	if err != nil {
		return "", fmt.Errorf("not HOST:PORT")
	}
	if _, err := ParsePort(portText); err != nil {
		return "", err
	}
	if _, err := netip.ParseAddr(host); err != nil {
		if errs := validation.IsDNS1123Subdomain(host); len(errs) > 0 {
			return "", fmt.Errorf("host %s is neither an IP address nor a DNS name", Echo(host))
		}
	}
	return v, nil
}

// parsePercent parses a percentage from 0 to 100.
func parsePercent(v string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil {
		return 0, fmt.Errorf("not a number")
	}
	if f < 0 || f > 100 {
		return 0, fmt.Errorf("%g is out of range", f)
	}
	return f, nil
}

// checkTracing refuses tracing without a collector.
func checkTracing(s *Spec, annotations map[string]string) error {
	if s.Tracing.Provider == TracingOff || s.Tracing.Endpoint != "" {
		return nil
	}
	key := Prefix + "tracing"
	return &InvalidAnnotationError{
		Annotation: key,
		Value:      annotations[key],
		Reason:     "no collector: set " + Prefix + "tracing-endpoint, or the chart's tracing endpoint",
		Allowed:    list(TracingProviders),
	}
}
