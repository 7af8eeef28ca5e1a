// Package promql collects every PromQL expression planeless ships, so that
// tests can check them against the real Envoy's metric names and run them
// against a real Prometheus: the Grafana dashboard's panel queries
// (charts/planeless/dashboards/planeless.json), the alert rules
// (charts/planeless/dashboards/alerts.yaml) and the ```promql blocks of
// docs/metrics.md.
package promql

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"
)

// Expr is one expression and where it comes from.
type Expr struct {
	// Source names the file and the panel, rule or block.
	Source string
	// Query is the expression as written (Grafana variables included).
	Query string
}

// Files are the shipped files holding PromQL, relative to the repository.
var Files = struct {
	Dashboard, Alerts string
	Docs              []string
}{
	Dashboard: filepath.Join("charts", "planeless", "dashboards", "planeless.json"),
	Alerts:    filepath.Join("charts", "planeless", "dashboards", "alerts.yaml"),
	Docs:      []string{filepath.Join("docs", "metrics.md"), "README.md"},
}

// All returns every expression of the dashboard, the alerts and the docs.
func All(repoRoot string) ([]Expr, error) {
	var all []Expr
	for _, load := range []func(string) ([]Expr, error){Dashboard, Alerts, Docs} {
		exprs, err := load(repoRoot)
		if err != nil {
			return nil, err
		}
		all = append(all, exprs...)
	}
	return all, nil
}

// Dashboard returns the query of every panel target.
func Dashboard(repoRoot string) ([]Expr, error) {
	data, err := os.ReadFile(filepath.Join(repoRoot, Files.Dashboard))
	if err != nil {
		return nil, err
	}
	var d struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				RefID string `json:"refId"`
				Expr  string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", Files.Dashboard, err)
	}
	var out []Expr
	for _, p := range d.Panels {
		for _, t := range p.Targets {
			out = append(out, Expr{Source: fmt.Sprintf("dashboard panel %q query %s", p.Title, t.RefID), Query: t.Expr})
		}
	}
	return out, nil
}

// Alerts returns the expression of every rule.
func Alerts(repoRoot string) ([]Expr, error) {
	data, err := os.ReadFile(filepath.Join(repoRoot, Files.Alerts))
	if err != nil {
		return nil, err
	}
	var f struct {
		Groups []struct {
			Rules []struct {
				Alert string `json:"alert"`
				Expr  string `json:"expr"`
			} `json:"rules"`
		} `json:"groups"`
	}
	if err := yaml.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", Files.Alerts, err)
	}
	var out []Expr
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			out = append(out, Expr{Source: "alert " + r.Alert, Query: strings.TrimSpace(r.Expr)})
		}
	}
	return out, nil
}

var promqlBlock = regexp.MustCompile("(?s)```promql\n(.*?)```")

// Docs returns every ```promql block of docs/metrics.md and the README,
// one query a block.
func Docs(repoRoot string) ([]Expr, error) {
	var out []Expr
	for _, file := range Files.Docs {
		data, err := os.ReadFile(filepath.Join(repoRoot, file))
		if err != nil {
			return nil, err
		}
		for i, m := range promqlBlock.FindAllStringSubmatch(string(data), -1) {
			q := strings.TrimSpace(stripComments(m[1]))
			out = append(out, Expr{Source: fmt.Sprintf("%s block %d", file, i+1), Query: q})
		}
	}
	return out, nil
}

func stripComments(s string) string {
	var b strings.Builder
	for line := range strings.Lines(s) {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		b.WriteString(line)
	}
	return b.String()
}

// Instantiate replaces the dashboard's Grafana variables with what
// Grafana sends for "All" and a 5-minute range.
func Instantiate(q string) string {
	return strings.NewReplacer(
		"$namespace", ".*",
		"$app", ".*",
		"$__rate_interval", "1m",
		"$__range", "5m",
	).Replace(q)
}

var (
	metricName = regexp.MustCompile(`\benvoy_[a-z0-9_]+`)
	matcher    = regexp.MustCompile(`([a-z_][a-z0-9_]*)\s*(?:=~|!~|!=|=)\s*"`)
	grouping   = regexp.MustCompile(`\b(?:by|ignoring|on|without)\s*\(([^)]*)\)`)
	labelValue = regexp.MustCompile(`([a-z_][a-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"`)
)

// Selector is one vector selector of a query: a metric and the labels it
// requires to equal a value.
type Selector struct {
	Metric string
	// Equal holds the selector's label="value" matchers whose value is a
	// literal (no Grafana variable); regular expressions and negations
	// are left out.
	Equal map[string]string
}

// Selectors returns every selector of q that names one of its Metrics, in
// order.
func Selectors(q string) []Selector {
	var out []Selector
	for _, name := range Metrics(q) {
		re := regexp.MustCompile(`\b` + regexp.QuoteMeta(name) + `\b\s*(\{[^}]*\})?`)
		for _, m := range re.FindAllStringSubmatchIndex(q, -1) {
			sel := Selector{Metric: name, Equal: map[string]string{}}
			if m[2] >= 0 {
				for _, eq := range labelValue.FindAllStringSubmatch(q[m[2]:m[3]], -1) {
					if eq[2] == "=" && !strings.Contains(eq[3], "$") {
						sel.Equal[eq[1]] = eq[3]
					}
				}
			}
			out = append(out, sel)
		}
	}
	return out
}

// Metrics returns the metric names q uses, sorted: envoy_ names that are
// not label names (matched on or in a grouping clause).
func Metrics(q string) []string {
	q = grouping.ReplaceAllString(q, "")
	q = matcher.ReplaceAllString(q, `"`)
	names := metricName.FindAllString(q, -1)
	slices.Sort(names)
	return slices.Compact(names)
}

// Labels returns the label names q matches on or groups by (le excepted),
// sorted.
func Labels(q string) []string {
	var names []string
	for _, m := range matcher.FindAllStringSubmatch(q, -1) {
		names = append(names, m[1])
	}
	for _, m := range grouping.FindAllStringSubmatch(q, -1) {
		for name := range strings.SplitSeq(m[1], ",") {
			if name = strings.TrimSpace(name); name != "" && name != "le" {
				names = append(names, name)
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}
