package proxy

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// maxLoggedHeaders bounds the extra access log fields of one direction.
const maxLoggedHeaders = 16

// maxHeaderNameLength bounds one logged header name.
const maxHeaderNameLength = 64

// parseHeaderNames parses "X-Customer-Id, x-tenant" into lower-case header
// names. Only letters, digits and '-' are accepted: they are all a header
// name needs, and none of them means anything in an Envoy format string or
// a JSON key.
func parseHeaderNames(v string) ([]string, error) {
	items := splitList(v)
	if len(items) == 0 {
		return nil, fmt.Errorf("no header name given")
	}
	if len(items) > maxLoggedHeaders {
		return nil, fmt.Errorf("%d headers, at most %d", len(items), maxLoggedHeaders)
	}
	names := make([]string, 0, len(items))
	for _, item := range items {
		name := strings.ToLower(item)
		if err := checkHeaderName(name); err != nil {
			return nil, err
		}
		if slices.Contains(names, name) {
			return nil, fmt.Errorf("header %q is listed twice", item)
		}
		names = append(names, name)
	}
	return names, nil
}

func checkHeaderName(name string) error {
	if len(name) > maxHeaderNameLength {
		return fmt.Errorf("header name %q is longer than %d characters", name, maxHeaderNameLength)
	}
	for i, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		case r == '-' && i > 0 && i < len(name)-1:
		default:
			return fmt.Errorf("%q is not a header name (letters, digits and inner '-' only)", name)
		}
	}
	return nil
}

// parseEndpoint parses HOST:PORT, HOST a DNS name or an IP address.
func parseEndpoint(v string) (string, error) {
	v = strings.TrimSpace(v)
	host, portText, err := net.SplitHostPort(v)
	if err != nil {
		return "", fmt.Errorf("not HOST:PORT")
	}
	if _, err := parsePort(portText); err != nil {
		return "", err
	}
	if _, err := netip.ParseAddr(host); err != nil {
		if errs := validation.IsDNS1123Subdomain(host); len(errs) > 0 {
			return "", fmt.Errorf("host %q is neither an IP address nor a DNS name", host)
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

// Validate checks the observability defaults an operator set (webhook
// flags, chart values), with the same rules as the pod annotations.
func (d Defaults) Validate() error {
	var errs []error
	if d.AccessLogFormat != "" && !slices.Contains(AccessLogFormats, d.AccessLogFormat) {
		errs = append(errs, fmt.Errorf("access log format %q is not one of %s", d.AccessLogFormat, list(AccessLogFormats)))
	}
	if d.Tracing.Provider != "" && !slices.Contains(TracingProviders, d.Tracing.Provider) {
		errs = append(errs, fmt.Errorf("tracing provider %q is not one of %s", d.Tracing.Provider, list(TracingProviders)))
	}
	if d.Tracing.Provider != "" && d.Tracing.Provider != TracingOff && d.Tracing.Endpoint == "" {
		errs = append(errs, fmt.Errorf("tracing provider %q needs a tracing endpoint", d.Tracing.Provider))
	}
	if d.Tracing.Endpoint != "" {
		if _, err := parseEndpoint(d.Tracing.Endpoint); err != nil {
			errs = append(errs, fmt.Errorf("tracing endpoint %q: %w", d.Tracing.Endpoint, err))
		}
	}
	if d.Tracing.SamplingPercent < 0 || d.Tracing.SamplingPercent > 100 {
		errs = append(errs, fmt.Errorf("tracing sampling %g is not a percentage from 0 to 100", d.Tracing.SamplingPercent))
	}
	errs = append(errs, d.validatePolicy()...)
	return errors.Join(errs...)
}
