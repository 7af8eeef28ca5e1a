package tap

import (
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Filter selects access-log entries. Each set field must match; an empty
// field matches everything. Filters apply to each entry before pairing,
// so a request is shown with the sides that match.
type Filter struct {
	// Methods are upper-case HTTP methods.
	Methods []string
	// Status holds response-code ranges.
	Status []StatusRange
	// Path matches the request path (with its query string).
	Path *PathMatch
	// Authorities match the :authority (Host) with or without its port.
	Authorities []string
	// Direction keeps only outbound or only inbound entries.
	Direction Direction
}

// Match reports whether e passes every filter.
func (f Filter) Match(e Entry) bool {
	if len(f.Methods) > 0 && !slices.Contains(f.Methods, e.Method) {
		return false
	}
	if len(f.Status) > 0 && !slices.ContainsFunc(f.Status, func(r StatusRange) bool { return r.Contains(e.ResponseCode) }) {
		return false
	}
	if f.Path != nil && !f.Path.Match(e.Path) {
		return false
	}
	if len(f.Authorities) > 0 && !slices.ContainsFunc(f.Authorities, func(a string) bool { return authorityMatches(a, e.Authority) }) {
		return false
	}
	if f.Direction != "" && f.Direction != e.Direction {
		return false
	}
	return true
}

// ParseMethods reads a comma-separated list of HTTP methods.
func ParseMethods(s string) []string {
	var methods []string
	for m := range strings.SplitSeq(s, ",") {
		if m = strings.ToUpper(strings.TrimSpace(m)); m != "" {
			methods = append(methods, m)
		}
	}
	return methods
}

// ParseAuthorities reads a comma-separated list of authorities.
func ParseAuthorities(s string) []string {
	var as []string
	for a := range strings.SplitSeq(s, ",") {
		if a = strings.TrimSpace(a); a != "" {
			as = append(as, a)
		}
	}
	return as
}

// authorityMatches compares want with an entry's authority, ignoring case;
// a want without a port matches the authority on any port.
func authorityMatches(want, authority string) bool {
	if strings.EqualFold(want, authority) {
		return true
	}
	host, _, err := net.SplitHostPort(authority)
	return err == nil && strings.EqualFold(want, host)
}

// ParseDirection reads "inbound", "outbound" or "" (both).
func ParseDirection(s string) (Direction, error) {
	switch d := Direction(strings.ToLower(strings.TrimSpace(s))); d {
	case "", Inbound, Outbound:
		return d, nil
	default:
		return "", fmt.Errorf("direction %q is neither inbound nor outbound", s)
	}
}

// StatusRange is an inclusive range of response codes.
type StatusRange struct{ Lo, Hi int }

// Contains reports whether code is in the range.
func (r StatusRange) Contains(code int) bool { return r.Lo <= code && code <= r.Hi }

// ParseStatus reads a comma-separated list of response codes (404),
// ranges (500-599) and classes (5xx).
func ParseStatus(s string) ([]StatusRange, error) {
	var ranges []StatusRange
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		r, err := parseStatusRange(part)
		if err != nil {
			return nil, fmt.Errorf("status %q: %w", part, err)
		}
		ranges = append(ranges, r)
	}
	return ranges, nil
}

func parseStatusRange(s string) (StatusRange, error) {
	if len(s) == 3 && strings.HasSuffix(strings.ToLower(s), "xx") {
		class, err := strconv.Atoi(s[:1])
		if err != nil || class < 1 || class > 5 {
			return StatusRange{}, fmt.Errorf("not a status class 1xx to 5xx")
		}
		return StatusRange{class * 100, class*100 + 99}, nil
	}
	lo, hi, isRange := strings.Cut(s, "-")
	if !isRange {
		hi = lo
	}
	l, err := parseCode(lo)
	if err != nil {
		return StatusRange{}, err
	}
	h, err := parseCode(hi)
	if err != nil {
		return StatusRange{}, err
	}
	if l > h {
		return StatusRange{}, fmt.Errorf("range ends before it starts")
	}
	return StatusRange{l, h}, nil
}

// parseCode reads a response code; 0 is Envoy's code for "no response".
func parseCode(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 || n > 999 {
		return 0, fmt.Errorf("%q is not a response code", s)
	}
	return n, nil
}

// PathMatch matches request paths: by prefix, or by regular expression
// when the flag's value starts with "~" (as in nginx).
type PathMatch struct {
	prefix string
	re     *regexp.Regexp
}

// ParsePath reads a path filter: "/api/" matches paths starting with
// /api/; "~^/api/v[12]/" matches paths the regular expression (RE2,
// unanchored) finds a match in.
func ParsePath(s string) (*PathMatch, error) {
	if expr, ok := strings.CutPrefix(s, "~"); ok {
		re, err := regexp.Compile(expr)
		if err != nil {
			return nil, fmt.Errorf("path regular expression: %w", err)
		}
		return &PathMatch{re: re}, nil
	}
	return &PathMatch{prefix: s}, nil
}

// Match reports whether path matches.
func (m *PathMatch) Match(path string) bool {
	if m.re != nil {
		return m.re.MatchString(path)
	}
	return strings.HasPrefix(path, m.prefix)
}

func (m *PathMatch) String() string {
	if m.re != nil {
		return "~" + m.re.String()
	}
	return m.prefix
}
