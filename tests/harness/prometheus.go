package harness

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"sigs.k8s.io/yaml"
)

// Prometheus is a real Prometheus (the Debian package) on the host,
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

// StartPrometheus runs Prometheus with ScrapeConfig(pods, 1s) and waits
// until every target is up.
func (h *Harness) StartPrometheus(t T, pods []*Pod) *Prometheus {
	t.Helper()
	bin := requireCommand(t, "prometheus", "apt-get install prometheus")
	config, err := ScrapeConfig(pods, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(h.dir, "prometheus")
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	configFile := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(configFile, config, 0o644); err != nil {
		t.Fatal(err)
	}
	addr, err := freeLoopbackAddr()
	if err != nil {
		t.Fatal(err)
	}
	proc, err := startHostProcess(dir, "prometheus", bin,
		"--config.file="+configFile,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--log.level=warn",
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proc.kill)
	p := &Prometheus{URL: "http://" + addr, proc: proc}

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
	resp, err := http.Get(p.URL + "/api/v1/query?query=" + url.QueryEscape(promql))
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

func freeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// startHostProcess runs a program on the host (not in a pod), logging to
// dir like a pod's processes.
func startHostProcess(dir, name, bin string, args ...string) (*process, error) {
	p, err := newProcess(dir, name, exec.Command(bin, args...))
	if err != nil {
		return nil, err
	}
	return p, p.start()
}
