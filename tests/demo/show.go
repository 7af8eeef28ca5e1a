package main

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/planeless/planeless/tests/harness"
)

// bootstrapSummary says what the bootstrap annotation holds: its size (it
// is compact JSON, one line) and its listeners and clusters.
func bootstrapSummary(config string) string {
	var b struct {
		StaticResources struct {
			Listeners []json.RawMessage `json:"listeners"`
			Clusters  []json.RawMessage `json:"clusters"`
		} `json:"static_resources"`
	}
	if err := json.Unmarshal([]byte(config), &b); err != nil {
		return fmt.Sprintf("<%.1f KiB of Envoy bootstrap that does not decode: %v>", float64(len(config))/1024, err)
	}
	return fmt.Sprintf("<%.1f KiB of Envoy bootstrap (compact JSON): %d listeners, %d clusters, rendered from this pod; planeless render prints it as YAML>",
		float64(len(config))/1024, len(b.StaticResources.Listeners), len(b.StaticResources.Clusters))
}

// showPod prints the injected pod without the noise: the bootstrap
// annotation becomes a summary, and only the containers' names, commands,
// args and users remain.
func showPod(r *runner, pod *corev1.Pod) {
	annotations := map[string]string{}
	for k, v := range pod.Annotations {
		if k == harness.BootstrapAnnotation {
			v = bootstrapSummary(v)
		}
		annotations[k] = v
	}
	container := func(c corev1.Container) map[string]any {
		m := map[string]any{"name": c.Name, "image": c.Image}
		if len(c.Command) > 0 {
			m["command"] = c.Command
		}
		if len(c.Args) > 0 {
			m["args"] = c.Args
		}
		if c.RestartPolicy != nil {
			m["restartPolicy"] = *c.RestartPolicy
		}
		if sc := c.SecurityContext; sc != nil {
			s := map[string]any{}
			if sc.RunAsUser != nil {
				s["runAsUser"] = *sc.RunAsUser
			}
			if sc.Capabilities != nil && len(sc.Capabilities.Add) > 0 {
				s["capabilities"] = map[string]any{"add": sc.Capabilities.Add}
			}
			if len(s) > 0 {
				m["securityContext"] = s
			}
		}
		return m
	}
	var inits, containers []map[string]any
	for _, c := range pod.Spec.InitContainers {
		inits = append(inits, container(c))
	}
	for _, c := range pod.Spec.Containers {
		containers = append(containers, container(c))
	}
	out, err := yaml.Marshal(map[string]any{
		"metadata": map[string]any{"name": pod.Name, "namespace": pod.Namespace, "labels": pod.Labels, "annotations": annotations},
		"spec":     map[string]any{"initContainers": inits, "containers": containers},
	})
	if err != nil {
		r.Fatal(err)
	}
	r.print(indent(string(out)))
}

// The queries are docs/metrics.md's, over a shorter window.
const (
	errorsIn  = `rate(envoy_planeless_requests_total{direction="inbound", response_code=~"0|5.."}[1m]) or rate(envoy_planeless_requests_total{direction="inbound", grpc_status=~"2|4|12|13|14|15"}[1m])`
	errorsOut = `rate(envoy_planeless_requests_total{direction="outbound", response_code=~"0|5.."}[1m]) or rate(envoy_planeless_requests_total{direction="outbound", grpc_status=~"2|4|12|13|14|15"}[1m])`
)

func showQueries(r *runner, prom *harness.Prometheus) {
	byWorkload := []string{"namespace", "app", "version"}
	byDestination := []string{"namespace", "app", "destination"}
	queries := []struct {
		title  string
		query  string
		labels []string
		format string
	}{
		{"requests per second, per workload and version",
			`sum by (namespace, app, version) (rate(envoy_planeless_requests_total{direction="inbound"}[1m]))`, byWorkload, "%.1f/s"},
		{"error ratio (5xx, resets, failed gRPC), per workload and version",
			`sum by (namespace, app, version) (` + errorsIn + `) / sum by (namespace, app, version) (rate(envoy_planeless_requests_total{direction="inbound"}[1m]))`, byWorkload, "%.0f%%"},
		{"p99 latency, per workload and version",
			`histogram_quantile(0.99, sum by (namespace, app, version, le) (rate(envoy_planeless_request_duration_milliseconds_bucket{direction="inbound"}[1m])))`, byWorkload, "%.0f ms"},
		{"requests per second, per destination (as the caller sees it, no configuration)",
			`sum by (namespace, app, destination) (rate(envoy_planeless_requests_total{direction="outbound"}[1m]))`, byDestination, "%.1f/s"},
		{"error ratio, per destination",
			`sum by (namespace, app, destination) (` + errorsOut + `) / sum by (namespace, app, destination) (rate(envoy_planeless_requests_total{direction="outbound"}[1m]))`, byDestination, "%.0f%%"},
		{"p99 latency, per destination",
			`histogram_quantile(0.99, sum by (namespace, app, destination, le) (rate(envoy_planeless_request_duration_milliseconds_bucket{direction="outbound"}[1m])))`, byDestination, "%.0f ms"},
	}
	for _, q := range queries {
		r.printf("\n   %s\n   %s\n", r.bold(q.title), strings.Join(strings.Fields(q.query), " "))
		results, err := prom.Query(q.query)
		if err != nil {
			r.Fatal(err)
		}
		if len(results) == 0 {
			r.println("     (no series)")
		}
		sort.Slice(results, func(i, j int) bool { return key(results[i], q.labels) < key(results[j], q.labels) })
		for _, res := range results {
			v := res.Value
			if strings.HasSuffix(q.format, "%%") {
				v *= 100
			}
			value := fmt.Sprintf(q.format, v)
			if math.IsNaN(res.Value) {
				value = "-"
			}
			r.printf("     %-44s %s\n", key(res, q.labels), value)
		}
	}
}

func key(r harness.Result, labels []string) string {
	parts := make([]string, len(labels))
	for i, l := range labels {
		parts[i] = r.Labels[l]
	}
	return strings.Join(parts, " / ")
}

// showAccessLogs prints the last completed requests of the pod's access
// log (JSON lines on Envoy's stdout) compactly, and one line in full.
func showAccessLogs(r *runner, pod *harness.Pod) {
	type entry struct {
		Direction string  `json:"direction"`
		Method    string  `json:"method"`
		Authority string  `json:"authority"`
		Path      string  `json:"path"`
		Code      int     `json:"response_code"`
		Duration  float64 `json:"duration"`
		Cluster   string  `json:"upstream_cluster"`
	}
	var lines []string
	var entries []entry
	for _, l := range strings.Split(pod.EnvoyStdout(r), "\n") {
		var e entry
		if json.Unmarshal([]byte(l), &e) == nil && e.Code > 0 {
			lines, entries = append(lines, l), append(entries, e)
		}
	}
	if len(entries) == 0 {
		r.println("   (no access log lines)")
		return
	}
	from := max(0, len(entries)-6)
	for _, e := range entries[from:] {
		r.printf("   %-8s %s %s%s → %d in %.0f ms via %s\n", e.Direction, e.Method, e.Authority, e.Path, e.Code, e.Duration, e.Cluster)
	}
	r.println("   one line in full:")
	r.println("   " + lines[len(lines)-1])
}

func indent(s string) string {
	return "   " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n   ") + "\n"
}
