package proxy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// node is one value of a YAML annotation (converted to JSON by
// sigs.k8s.io/yaml) with its path, so that every message names the field:
// routes.middleware.retries.perTryTimeout: "2" is not a duration.
type node struct {
	path string
	raw  json.RawMessage
}

func (n node) child(key string) node { return node{path: n.path + "." + key} }

func (n node) at(i int) node { return node{path: fmt.Sprintf("%s[%d]", n.path, i)} }

func (n node) errorf(format string, args ...any) error {
	return fmt.Errorf("%s: %s", n.path, fmt.Sprintf(format, args...))
}

// kind names the JSON kind of the value, for messages.
func (n node) kind() string {
	switch b := bytes.TrimSpace(n.raw); {
	case len(b) == 0 || string(b) == "null":
		return "nothing"
	case b[0] == '{':
		return "a map"
	case b[0] == '[':
		return "a list"
	case b[0] == '"':
		return "a string"
	case string(b) == "true" || string(b) == "false":
		return "a boolean"
	default:
		return "a number"
	}
}

func (n node) isString() bool { return n.kind() == "a string" }

// object returns the fields of a map; keys must be among known (aliases
// maps a key YAML 1.1 rewrites, such as on → "true", to its name).
func (n node) object(known []string, aliases map[string]string) (map[string]node, error) {
	var fields map[string]json.RawMessage
	if n.kind() != "a map" || json.Unmarshal(n.raw, &fields) != nil {
		return nil, n.errorf("want a map with %s, not %s", strings.Join(known, ", "), n.kind())
	}
	out := map[string]node{}
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		name := k
		if a, ok := aliases[k]; ok {
			name = a
		}
		if !slices.Contains(known, name) {
			return nil, n.errorf("unknown field %q (known: %s)", k, strings.Join(known, ", "))
		}
		c := n.child(name)
		c.raw = fields[k]
		out[name] = c
	}
	return out, nil
}

// entries returns the entries of a map whose keys are names (destinations,
// header names, targets), sorted by key.
func (n node) entries(what string) ([]string, map[string]node, error) {
	var fields map[string]json.RawMessage
	if n.kind() != "a map" || json.Unmarshal(n.raw, &fields) != nil {
		return nil, nil, n.errorf("want a map of %s, not %s", what, n.kind())
	}
	keys := slices.Sorted(maps.Keys(fields))
	out := map[string]node{}
	for _, k := range keys {
		c := n.child(k)
		c.raw = fields[k]
		out[k] = c
	}
	return keys, out, nil
}

func (n node) list() ([]node, error) {
	var items []json.RawMessage
	if n.kind() != "a list" || json.Unmarshal(n.raw, &items) != nil {
		return nil, n.errorf("want a list, not %s", n.kind())
	}
	out := make([]node, len(items))
	for i, raw := range items {
		out[i] = n.at(i)
		out[i].raw = raw
	}
	return out, nil
}

// text is the value as the user wrote it: a string unquoted, a number or
// boolean as it is.
func (n node) text() string {
	var s string
	if json.Unmarshal(n.raw, &s) == nil {
		return s
	}
	return string(bytes.TrimSpace(n.raw))
}

// scalar returns a string, number or boolean as text.
func (n node) scalar() (string, error) {
	switch n.kind() {
	case "a string", "a number", "a boolean":
		return n.text(), nil
	}
	return "", n.errorf("want a value, not %s", n.kind())
}

// duration reads a Go duration (2s, 500ms, 1m30s) from 1ms to maxDuration.
func (n node) duration() (time.Duration, error) {
	d, err := time.ParseDuration(n.text())
	if err != nil || !n.isString() {
		return 0, n.errorf("%q is not a duration (write 2s, 500ms or 1m30s)", n.text())
	}
	if d < time.Millisecond || d > maxDuration {
		return 0, n.errorf("%s is out of range (1ms to %s)", d, maxDuration)
	}
	return d, nil
}

func (n node) integer(lo, hi int) (int, error) {
	i, err := strconv.Atoi(n.text())
	if err != nil || n.kind() != "a number" {
		return 0, n.errorf("%q is not an integer", n.text())
	}
	if i < lo || i > hi {
		return 0, n.errorf("%d is out of range (%d to %d)", i, lo, hi)
	}
	return i, nil
}

func (n node) percent() (float64, error) {
	if n.kind() != "a number" {
		return 0, n.errorf("%q is not a percentage (a number from 0 to 100)", n.text())
	}
	f, err := parsePercent(n.text())
	if err != nil {
		return 0, n.errorf("%q is not a percentage (a number from 0 to 100)", n.text())
	}
	return f, nil
}
