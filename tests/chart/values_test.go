package chart_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/planeless/planeless/bootstrap"
	"github.com/planeless/planeless/inject"
	"github.com/planeless/planeless/proxy"
	"github.com/planeless/planeless/templates"
	"github.com/planeless/planeless/tests/harness"
	"github.com/planeless/planeless/tests/kube"
)

// schema is values.schema.json, decoded.
type schema struct {
	Type       any                `json:"type"`
	Ref        string             `json:"$ref"`
	Enum       []string           `json:"enum"`
	Minimum    *float64           `json:"minimum"`
	Maximum    *float64           `json:"maximum"`
	Properties map[string]*schema `json:"properties"`
}

func loadSchema(t *testing.T) (root *schema, definitions map[string]*schema) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(chartDir(), "values.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		schema
		Definitions map[string]*schema `json:"definitions"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	return &doc.schema, doc.Definitions
}

// at finds the schema of a values path (proxy.ports.inbound).
func at(t *testing.T, root *schema, definitions map[string]*schema, path string) *schema {
	t.Helper()
	s := root
	for _, key := range strings.Split(path, ".") {
		next, ok := s.Properties[key]
		if !ok {
			t.Fatalf("values.schema.json has no %s", path)
		}
		s = next
		if s.Ref != "" {
			s = definitions[strings.TrimPrefix(s.Ref, "#/definitions/")]
		}
	}
	return s
}

// The chart's values and the webhook's flags are one door: every setting
// of proxy.Settings is a chart value whose schema allows what the flag
// allows (the same choices, the same bounds), and becomes that flag.
func TestValuesAreTheSettingsOfTheWebhook(t *testing.T) {
	root, definitions := loadSchema(t)
	values := chartValues(t)
	args := typed[appsv1.Deployment](t, render(t, "proxy: {excludeOutboundPorts: \"5432\", egressAllowedCIDRs: [10.0.0.0/8]}\ntracing: {endpoint: \"zipkin:9411\"}\n"), "Deployment").Spec.Template.Spec.Containers[0].Args
	for _, s := range proxy.Settings {
		t.Run(s.Value, func(t *testing.T) {
			sch := at(t, root, definitions, s.Value)
			switch {
			case s.Bool:
				if sch.Type != "boolean" {
					t.Errorf("schema type %v, want boolean", sch.Type)
				}
			case s.Choices != nil:
				if !slices.Equal(sch.Enum, s.Choices) {
					t.Errorf("schema enum %v, the flag allows %v", sch.Enum, s.Choices)
				}
			case s.Min != nil:
				if sch.Minimum == nil || *sch.Minimum != *s.Min || sch.Maximum == nil || *sch.Maximum != *s.Max {
					t.Errorf("schema bounds %v..%v, the flag allows %v..%v", deref(sch.Minimum), deref(sch.Maximum), *s.Min, *s.Max)
				}
			}
			if _, ok := valueAt(values, s.Value); !ok {
				t.Errorf("values.yaml has no %s", s.Value)
			}
			if !slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--"+s.Flag+"=") }) {
				t.Errorf("the chart does not pass --%s", s.Flag)
			}
		})
	}
}

// What the schema refuses, the webhook refuses too, and what it takes, the
// webhook takes: for every setting with choices or bounds, the values just
// inside and just outside, through helm and through the binary.
func TestSchemaAndWebhookAgreeOnEveryBound(t *testing.T) {
	bin := kube.Helm(t)
	planeless := harness.Planeless(t)
	for _, s := range proxy.Settings {
		var good, bad []string
		switch {
		case s.Choices != nil:
			good, bad = s.Choices, []string{"bogus"}
		case s.Min != nil:
			good = []string{number(*s.Min), number(*s.Max)}
			bad = []string{number(*s.Min - 1), number(*s.Max + 1)}
		default:
			continue
		}
		for _, v := range append(good, bad...) {
			wantOK := slices.Contains(good, v)
			t.Run(fmt.Sprintf("%s=%s", s.Value, v), func(t *testing.T) {
				// A tracing provider needs a collector, in both.
				out, err := exec.CommandContext(t.Context(), bin, "template", release, chartDir(), "--namespace", namespace,
					"--values", valuesFile(t, "tracing: {endpoint: \"zipkin:9411\"}\n"),
					"--values", valuesFile(t, nested(s.Value, v, s.Choices != nil))).CombinedOutput()
				if schemaOK := err == nil; schemaOK != wantOK {
					t.Errorf("the schema accepts it: %v, want %v\n%s", schemaOK, wantOK, out)
				}
				flagOut, err := exec.CommandContext(t.Context(), planeless, "webhook", "--"+s.Flag+"="+v, "--tracing-endpoint=zipkin:9411", "--help").CombinedOutput()
				if flagOK := err == nil; flagOK != wantOK {
					t.Errorf("the webhook accepts --%s=%s: %v, want %v\n%s", s.Flag, v, flagOK, wantOK, flagOut)
				}
			})
		}
	}
}

func number(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// nested writes a values path and a value as YAML.
func nested(path, value string, quoted bool) string {
	keys := strings.Split(path, ".")
	if quoted {
		value = strconv.Quote(value)
	}
	var b strings.Builder
	for i, k := range keys {
		b.WriteString(strings.Repeat("  ", i) + k + ":")
		if i == len(keys)-1 {
			b.WriteString(" " + value)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func valueAt(values map[string]any, path string) (any, bool) {
	var v any = values
	for _, key := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[key]; !ok {
			return nil, false
		}
	}
	return v, true
}

// The chart is released with planeless: its versions and default images
// are those of templates/versions.go.
func TestChartVersionsAreTheRelease(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(chartDir(), "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var chart struct {
		Version    string `json:"version"`
		AppVersion string `json:"appVersion"`
	}
	if err := yaml.Unmarshal(data, &chart); err != nil {
		t.Fatal(err)
	}
	if chart.Version != templates.Version || chart.AppVersion != "v"+templates.Version {
		t.Errorf("Chart.yaml says version %s, appVersion %s; templates.Version is %s", chart.Version, chart.AppVersion, templates.Version)
	}
	c := typed[appsv1.Deployment](t, render(t, ""), "Deployment").Spec.Template.Spec.Containers[0]
	if c.Image != templates.Image {
		t.Errorf("the webhook's default image is %s, want %s", c.Image, templates.Image)
	}
}

// The PodMonitor scrapes what the proxy serves, by the names the injector
// and the bootstrap give them.
func TestPodMonitorScrapesWhatTheProxyServes(t *testing.T) {
	for _, o := range render(t, "metrics: {podMonitor: {enabled: true}}\n") {
		if o.GetKind() != "PodMonitor" {
			continue
		}
		endpoints, _, _ := unstructured.NestedSlice(o.Object, "spec", "podMetricsEndpoints")
		if len(endpoints) != 1 {
			t.Fatalf("%d endpoints, want 1", len(endpoints))
		}
		ep := endpoints[0].(map[string]any)
		if ep["port"] != inject.StatsPortName || ep["path"] != bootstrap.PrometheusPath {
			t.Errorf("the PodMonitor scrapes port %v path %v, the proxy serves port %s path %s", ep["port"], ep["path"], inject.StatsPortName, bootstrap.PrometheusPath)
		}
		return
	}
	t.Fatal("no PodMonitor rendered")
}
