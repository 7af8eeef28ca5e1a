package harness

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// Prometheus is a real Prometheus (the Debian package) in a pod of its own,
// scraping the pods the way a cluster's Prometheus does from their
// prometheus.io/scrape, port and path annotations.
type Prometheus struct {
	// URL is Prometheus's own address (API and UI).
	URL  string
	proc *process
}

// ScrapeConfig is the Prometheus configuration that scrapes pods by their
// prometheus.io/* annotations: one static target per pod with
// prometheus.io/scrape: "true", at its IP, annotated port and path, with
// the pod's name and namespace as target labels (pod, kubernetes_namespace)
// like the usual kubernetes_sd relabelling.
func ScrapeConfig(pods []*Pod, interval time.Duration) ([]byte, error) {
	type staticConfig struct {
		Targets []string          `json:"targets"`
		Labels  map[string]string `json:"labels"`
	}
	var targets []staticConfig
	for _, p := range pods {
		a := p.Object.Annotations
		if a["prometheus.io/scrape"] != "true" {
			continue
		}
		port, path := p.StatsPort, p.StatsPath
		targets = append(targets, staticConfig{
			Targets: []string{net.JoinHostPort(p.IP.String(), strconv.Itoa(port))},
			Labels: map[string]string{
				"__metrics_path__":     path,
				"pod":                  p.Name,
				"kubernetes_namespace": p.Object.Namespace,
			},
		})
	}
	if len(targets) == 0 {
		return nil, fmt.Errorf("no pod has prometheus.io/scrape: \"true\"")
	}
	return yaml.Marshal(map[string]any{
		"global": map[string]any{
			"scrape_interval":     interval.String(),
			"scrape_timeout":      interval.String(),
			"evaluation_interval": interval.String(),
		},
		"scrape_configs": []map[string]any{{
			"job_name":       "planeless-pods",
			"static_configs": targets,
		}},
	})
}

// StartPrometheus runs Prometheus with ScrapeConfig(pods, 1s) in a pod of
// its own (netns "prometheus", no sidecar, so a killed run's sweep takes it
// too) and waits until every target is up. The test reaches its API at
// URL, over the bridge.
func (h *Harness) StartPrometheus(t T, pods []*Pod) *Prometheus {
	t.Helper()
	bin := requireCommand(t, "prometheus", "apt-get install prometheus")
	config, err := ScrapeConfig(pods, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	obj := &corev1.Pod{}
	obj.Name, obj.Namespace = "prometheus", "monitoring"
	pod, err := h.newPod(obj, PodOptions{})
	if err != nil {
		t.Fatalf("prometheus: %v", err)
	}
	if err := h.createNetns(t.Context(), pod); err != nil {
		t.Fatalf("prometheus: %v", err)
	}
	configFile := filepath.Join(pod.dir, "prometheus.yml")
	if err := os.WriteFile(configFile, config, 0o644); err != nil {
		t.Fatal(err)
	}
	proc, err := startProcess(pod.dir, pod.NS, "prometheus", 0, 0, container{}, nil, bin,
		"--config.file="+configFile,
		"--storage.tsdb.path="+filepath.Join(pod.dir, "data"),
		"--web.listen-address=:9090",
		"--log.level=warn",
	)
	if err != nil {
		t.Fatalf("prometheus: %v", err)
	}
	pod.mu.Lock()
	pod.apps = append(pod.apps, proc)
	pod.mu.Unlock()
	p := &Prometheus{URL: "http://" + net.JoinHostPort(pod.IP.String(), "9090"), proc: proc}

	want := 0
	for _, pod := range pods {
		if pod.Object.Annotations["prometheus.io/scrape"] == "true" {
			want++
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if done, err := proc.exited(); done {
			t.Fatalf("prometheus: %v\n%s", err, proc.tail(20))
		}
		up, err := p.Query(`sum(up == 1)`)
		if err == nil && len(up) == 1 && int(up[0].Value) == want {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus: %d targets not up within 60s (last: %v, %v)\n%s", want, up, err, proc.tail(20))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Result is one series of an instant query.
type Result struct {
	Labels map[string]string
	Value  float64
}

// Query runs an instant PromQL query.
func (p *Prometheus) Query(promql string) ([]Result, error) {
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(p.URL + "/api/v1/query?query=" + url.QueryEscape(promql))
	if err != nil {
		return nil, fmt.Errorf("querying %s: %w", promql, err)
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("decoding the answer to %s: %w", promql, err)
	}
	if body.Status != "success" {
		return nil, fmt.Errorf("query %s: %s", promql, body.Error)
	}
	out := make([]Result, 0, len(body.Data.Result))
	for _, r := range body.Data.Result {
		s, _ := r.Value[1].(string)
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("query %s: value %q: %w", promql, s, err)
		}
		out = append(out, Result{Labels: r.Metric, Value: v})
	}
	return out, nil
}
