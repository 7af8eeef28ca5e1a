package proxy

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"
)

// Bounds of planeless.dev/routes: each destination adds a virtual host and
// up to MaxTargets clusters to the bootstrap, which travels in the pod.
const (
	maxRoutesBytes       = 16 << 10
	MaxRouteDestinations = 32
	MaxRules             = 16
	MaxHeaderMatches     = 8
	MaxTargets           = 8
	// MaxTargetServices bounds the Services all destinations send to (one
	// cluster each).
	MaxTargetServices    = 64
	MaxRetryAttempts     = 10
	maxRetryConditions   = 16
	maxHeaderValueLength = 256
	maxDuration          = 24 * time.Hour
	// defaultRetryAttempts is Istio's default.
	defaultRetryAttempts = 2
)

// RoutesAllowed is what planeless.dev/routes accepts, for messages and the
// README.
const RoutesAllowed = "YAML: a map from a Service (NAME, NAME.NAMESPACE, optionally :PORT, default 80) to " +
	"timeout, retries {attempts, perTryTimeout, on}, rules [{match: {headers: {NAME: VALUE}}, to: SERVICE or {SERVICE: WEIGHT, ...}}] " +
	"and fault {abort: {status, percent}, delay: {fixed, percent}}; see docs/traffic-policy.md"

// parseRoutes reads planeless.dev/routes for a pod in podNamespace.
func parseRoutes(v, podNamespace string) ([]Destination, error) {
	if len(v) > maxRoutesBytes {
		return nil, fmt.Errorf("%d bytes, at most %d", len(v), maxRoutesBytes)
	}
	js, err := yaml.YAMLToJSON([]byte(v))
	if err != nil {
		return nil, fmt.Errorf("not YAML: %v", err)
	}
	root := node{path: "routes", raw: js}
	if root.kind() == "nothing" {
		return nil, errors.New("no destination given")
	}
	keys, fields, err := root.entries("destinations")
	if err != nil {
		return nil, err
	}
	if len(keys) > MaxRouteDestinations {
		return nil, fmt.Errorf("%d destinations, at most %d", len(keys), MaxRouteDestinations)
	}
	var errs []error
	var dests []Destination
	for _, k := range keys {
		d, err := parseDestination(k, fields[k], podNamespace)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if i := slices.IndexFunc(dests, func(o Destination) bool { return o.Service == d.Service }); i >= 0 {
			errs = append(errs, fmt.Errorf("routes.%s: the same Service as routes.%s", k, dests[i].Key))
			continue
		}
		dests = append(dests, d)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	services := map[Service]bool{}
	for _, d := range dests {
		for _, r := range d.Rules {
			for _, t := range r.Targets {
				services[t.Service] = true
			}
		}
	}
	if len(services) > MaxTargetServices {
		return nil, fmt.Errorf("%d target Services in all, at most %d", len(services), MaxTargetServices)
	}
	slices.SortFunc(dests, func(a, b Destination) int { return strings.Compare(a.Service.String(), b.Service.String()) })
	return dests, nil
}

func parseDestination(key string, n node, podNamespace string) (Destination, error) {
	svc, err := parseService(key, podNamespace, DefaultServicePort)
	if err != nil {
		return Destination{}, fmt.Errorf("%s: %w", n.path, err)
	}
	d := Destination{Key: key, Service: svc}
	if n.kind() == "nothing" {
		// `middleware:` alone: every request to the Service itself.
		d.Rules = []Rule{{Targets: []Target{{Service: svc, Weight: 100}}}}
		return d, nil
	}
	fields, err := n.object([]string{"timeout", "retries", "rules", "fault"}, nil)
	if err != nil {
		return Destination{}, err
	}
	var errs []error
	if f, ok := fields["timeout"]; ok {
		d.Timeout, err = f.duration()
		errs = append(errs, err)
	}
	if f, ok := fields["retries"]; ok {
		d.Retries, err = parseRetries(f, d.Timeout)
		errs = append(errs, err)
	}
	if f, ok := fields["rules"]; ok {
		d.Rules, err = parseRules(f, podNamespace, svc)
		errs = append(errs, err)
	}
	if f, ok := fields["fault"]; ok {
		d.Fault, err = parseFault(f)
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return Destination{}, err
	}
	if len(d.Rules) == 0 || len(d.Rules[len(d.Rules)-1].Headers) > 0 {
		// Requests no rule matches go to the Service they named.
		d.Rules = append(d.Rules, Rule{Targets: []Target{{Service: svc, Weight: 100}}})
	}
	return d, nil
}

// parseService reads NAME, NAME.NAMESPACE, NAME:PORT or NAME.NAMESPACE:PORT.
func parseService(v, podNamespace string, defaultPort uint16) (Service, error) {
	bad := fmt.Errorf("%q is not a Service (NAME or NAME.NAMESPACE, optionally :PORT)", v)
	s := Service{Namespace: podNamespace, Port: defaultPort}
	name, port, hasPort := strings.Cut(strings.TrimSpace(v), ":")
	if hasPort {
		p, err := ParsePort(port)
		if err != nil {
			return Service{}, fmt.Errorf("%q: %w", v, err)
		}
		s.Port = p
	}
	name, ns, hasNamespace := strings.Cut(name, ".")
	if len(validation.IsDNS1035Label(name)) > 0 {
		return Service{}, bad
	}
	s.Name = name
	if hasNamespace {
		if len(validation.IsDNS1123Label(ns)) > 0 {
			return Service{}, bad
		}
		s.Namespace = ns
	}
	if s.Namespace == "" {
		s.Namespace = "default"
	}
	return s, nil
}

func parseRetries(n node, timeout time.Duration) (*Retries, error) {
	// YAML 1.1 reads the key `on` as true: accept both spellings.
	fields, err := n.object([]string{"attempts", "perTryTimeout", "on"}, map[string]string{"true": "on"})
	if err != nil {
		return nil, err
	}
	r := &Retries{Attempts: defaultRetryAttempts, On: DefaultRetryOn}
	var errs []error
	if f, ok := fields["attempts"]; ok {
		r.Attempts, err = f.integer(1, MaxRetryAttempts)
		errs = append(errs, err)
	}
	if f, ok := fields["perTryTimeout"]; ok {
		r.PerTryTimeout, err = f.duration()
		if err == nil && timeout > 0 && r.PerTryTimeout > timeout {
			err = f.errorf("%s is longer than the destination's timeout %s: it would never end a try", r.PerTryTimeout, timeout)
		}
		errs = append(errs, err)
	}
	if f, ok := fields["on"]; ok {
		r.On, r.Statuses, err = parseRetryOn(f)
		errs = append(errs, err)
	}
	return r, errors.Join(errs...)
}

// parseRetryOn reads a list (or a comma-separated string) of retry
// conditions and status codes.
func parseRetryOn(n node) ([]string, []uint32, error) {
	var items []node
	if n.isString() {
		for i, s := range splitList(n.text()) {
			c := n.at(i)
			c.raw = []byte(strconv.Quote(s))
			items = append(items, c)
		}
	} else {
		var err error
		if items, err = n.list(); err != nil {
			return nil, nil, err
		}
	}
	if len(items) == 0 || len(items) > maxRetryConditions {
		return nil, nil, n.errorf("want 1 to %d conditions", maxRetryConditions)
	}
	var on []string
	var statuses []uint32
	for _, item := range items {
		if code, err := strconv.Atoi(item.text()); err == nil {
			if code < 400 || code > 599 {
				return nil, nil, item.errorf("%d is not a status code from 400 to 599", code)
			}
			if !slices.Contains(statuses, uint32(code)) {
				statuses = append(statuses, uint32(code))
			}
			continue
		}
		c := strings.ToLower(strings.TrimSpace(item.text()))
		if !slices.Contains(RetryConditions, c) {
			return nil, nil, item.errorf("%q is not a retry condition (%s, or a status code from 400 to 599)", item.text(), strings.Join(RetryConditions, ", "))
		}
		if !slices.Contains(on, c) {
			on = append(on, c)
		}
	}
	return on, statuses, nil
}

func parseRules(n node, podNamespace string, self Service) ([]Rule, error) {
	items, err := n.list()
	if err != nil {
		return nil, err
	}
	if len(items) == 0 || len(items) > MaxRules {
		return nil, n.errorf("want 1 to %d rules", MaxRules)
	}
	var rules []Rule
	for i, item := range items {
		if i > 0 && len(rules[i-1].Headers) == 0 {
			return nil, item.errorf("follows a rule without match, which takes every request: it would never apply")
		}
		fields, err := item.object([]string{"match", "to"}, nil)
		if err != nil {
			return nil, err
		}
		var r Rule
		if m, ok := fields["match"]; ok {
			if r.Headers, err = parseMatch(m); err != nil {
				return nil, err
			}
		}
		to, ok := fields["to"]
		if !ok {
			return nil, item.errorf("no `to`: say where the requests go")
		}
		if r.Targets, err = parseTargets(to, podNamespace, self.Port); err != nil {
			return nil, err
		}
		rules = append(rules, r)
	}
	return rules, nil
}

func parseMatch(n node) ([]HeaderMatch, error) {
	fields, err := n.object([]string{"headers"}, nil)
	if err != nil {
		return nil, err
	}
	h, ok := fields["headers"]
	if !ok {
		return nil, n.errorf("empty: give headers, or leave match out to take every request")
	}
	names, values, err := h.entries("header names to values")
	if err != nil {
		return nil, err
	}
	if len(names) == 0 || len(names) > MaxHeaderMatches {
		return nil, h.errorf("want 1 to %d headers", MaxHeaderMatches)
	}
	var matches []HeaderMatch
	for _, name := range names {
		lower := strings.ToLower(name)
		if err := checkHeaderName(lower); err != nil {
			return nil, h.errorf("%v", err)
		}
		if slices.ContainsFunc(matches, func(m HeaderMatch) bool { return m.Name == lower }) {
			return nil, h.errorf("header %q is listed twice", name)
		}
		v, err := values[name].scalar()
		if err != nil {
			return nil, err
		}
		if len(v) > maxHeaderValueLength || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return nil, values[name].errorf("a header value of at most %d printable characters", maxHeaderValueLength)
		}
		matches = append(matches, HeaderMatch{Name: lower, Value: v})
	}
	return matches, nil
}

// parseTargets reads `to`: one Service, or a map of Services to weights
// adding up to 100. A target without a port has the destination's.
func parseTargets(n node, podNamespace string, port uint16) ([]Target, error) {
	if n.isString() {
		s, err := parseService(n.text(), podNamespace, port)
		if err != nil {
			return nil, n.errorf("%v", err)
		}
		return []Target{{Service: s, Weight: 100}}, nil
	}
	if n.kind() != "a map" {
		return nil, n.errorf("want a Service, or a map of Services to weights, not %s", n.kind())
	}
	names, weights, err := n.entries("Services to weights")
	if err != nil {
		return nil, err
	}
	if len(names) == 0 || len(names) > MaxTargets {
		return nil, n.errorf("want 1 to %d Services", MaxTargets)
	}
	var targets []Target
	total := 0
	for _, name := range names {
		s, err := parseService(name, podNamespace, port)
		if err != nil {
			return nil, n.errorf("%v", err)
		}
		if slices.ContainsFunc(targets, func(t Target) bool { return t.Service == s }) {
			return nil, n.errorf("%s is listed twice", s)
		}
		w, err := weights[name].integer(0, 100)
		if err != nil {
			return nil, err
		}
		total += w
		targets = append(targets, Target{Service: s, Weight: uint32(w)})
	}
	if total != 100 {
		return nil, n.errorf("weights add up to %d, not 100", total)
	}
	return targets, nil
}

func parseFault(n node) (*Fault, error) {
	fields, err := n.object([]string{"abort", "delay"}, nil)
	if err != nil {
		return nil, err
	}
	if len(fields) == 0 {
		return nil, n.errorf("empty: give abort, delay or both")
	}
	f := &Fault{}
	if a, ok := fields["abort"]; ok {
		af, err := a.object([]string{"status", "percent"}, nil)
		if err != nil {
			return nil, err
		}
		f.Abort = &Abort{Percent: 100}
		status, ok := af["status"]
		if !ok {
			return nil, a.errorf("no status: say what the aborted requests get (e.g. 503)")
		}
		code, err := status.integer(200, 599)
		if err != nil {
			return nil, err
		}
		f.Abort.Status = uint32(code)
		if p, ok := af["percent"]; ok {
			if f.Abort.Percent, err = p.percent(); err != nil {
				return nil, err
			}
		}
	}
	if d, ok := fields["delay"]; ok {
		df, err := d.object([]string{"fixed", "percent"}, nil)
		if err != nil {
			return nil, err
		}
		f.Delay = &Delay{Percent: 100}
		fixed, ok := df["fixed"]
		if !ok {
			return nil, d.errorf("no fixed: say how long the delayed requests wait (e.g. 2s)")
		}
		if f.Delay.Fixed, err = fixed.duration(); err != nil {
			return nil, err
		}
		if p, ok := df["percent"]; ok {
			if f.Delay.Percent, err = p.percent(); err != nil {
				return nil, err
			}
		}
	}
	return f, nil
}

// parseTimeout reads planeless.dev/timeout: a duration, or 0 for none.
func parseTimeout(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if v == "0" || v == "none" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (write 10s, 500ms or 1m30s)", v)
	}
	if d != 0 && (d < time.Millisecond || d > maxDuration) {
		return 0, fmt.Errorf("%s is out of range (1ms to %s, or 0 for none)", d, maxDuration)
	}
	return d, nil
}
