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

// showPod prints the injected pod without the noise: the bootstrap
// annotation becomes a line count, and only the containers' names,
// commands, args and users remain.
func showPod(r *runner, pod *corev1.Pod) {
	annotations := map[string]string{}
	for k, v := range pod.Annotations {
		if k == harness.BootstrapAnnotation {
			v = fmt.Sprintf("<%d lines of Envoy bootstrap, rendered from this pod>", strings.Count(v, "\n"))
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
	fmt.Print(indent(string(out)))
}

const inbound = `envoy_cluster_name=~"inbound\\|.*"`

func showQueries(r *runner, prom *harness.Prometheus) {
	byWorkload := []string{"namespace", "app", "version"}
	queries := []struct {
		title  string
		query  string
		labels []string
		format string
	}{
		{"requests per second, per workload (inbound)",
			`sum by (namespace, app, version) (rate(envoy_cluster_upstream_rq_total{` + inbound + `}[30s]))`, byWorkload, "%.1f/s"},
		{"error ratio (5xx), per workload",
			`sum by (namespace, app, version) (rate(envoy_cluster_upstream_rq_xx{` + inbound + `, envoy_response_code_class="5"}[30s])) / sum by (namespace, app, version) (rate(envoy_cluster_upstream_rq_total{` + inbound + `}[30s]))`, byWorkload, "%.0f%%"},
		{"p99 latency, per workload",
			`histogram_quantile(0.99, sum by (namespace, app, version, le) (rate(envoy_cluster_upstream_rq_time_bucket{` + inbound + `}[30s])))`, byWorkload, "%.0f ms"},
		{"requests per second, per destination (outbound, no configuration)",
			`sum by (app, envoy_cluster_name) (rate(envoy_cluster_upstream_rq_total{envoy_cluster_name=~"DFPCluster.*"}[30s]))`, []string{"app", "envoy_cluster_name"}, "%.1f/s"},
	}
	for _, q := range queries {
		fmt.Printf("\n   \033[1m%s\033[0m\n   %s\n", q.title, strings.Join(strings.Fields(q.query), " "))
		results, err := prom.Query(q.query)
		if err != nil {
			r.Fatal(err)
		}
		if len(results) == 0 {
			fmt.Println("     (no series)")
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
			fmt.Printf("     %-44s %s\n", key(res, q.labels), value)
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
		fmt.Println("   (no access log lines)")
		return
	}
	from := max(0, len(entries)-6)
	for _, e := range entries[from:] {
		fmt.Printf("   %-8s %s %s%s → %d in %.0f ms via %s\n", e.Direction, e.Method, e.Authority, e.Path, e.Code, e.Duration, e.Cluster)
	}
	fmt.Println("   one line in full:")
	fmt.Println("   " + lines[len(lines)-1])
}

func indent(s string) string {
	return "   " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n   ") + "\n"
}
