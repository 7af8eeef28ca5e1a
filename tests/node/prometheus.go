package node

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"
)

// PrometheusConfig is how a cluster's Prometheus usually finds pods:
// kubernetes_sd_configs (role pod, through the API server) limited to
// namespaces, keeping the pods annotated prometheus.io/scrape: "true" and
// scraping their prometheus.io/port and prometheus.io/path, with the pod's
// namespace and name as target labels (kubernetes_namespace, pod).
func (c *Cluster) PrometheusConfig(namespaces []string, interval time.Duration) ([]byte, error) {
	return yaml.Marshal(map[string]any{
		"global": map[string]any{"scrape_interval": interval.String(), "scrape_timeout": interval.String(), "evaluation_interval": interval.String()},
		"scrape_configs": []map[string]any{{
			"job_name": "kubernetes-pods",
			"kubernetes_sd_configs": []map[string]any{{
				"role":          "pod",
				"api_server":    "https://" + c.NodeIP + ":6443",
				"authorization": map[string]any{"credentials_file": c.path("etc", "prometheus.token")},
				"tls_config":    map[string]any{"ca_file": c.path("pki", "ca.crt")},
				"namespaces":    map[string]any{"names": namespaces},
			}},
			"relabel_configs": []map[string]any{
				{"source_labels": []string{"__meta_kubernetes_pod_annotation_prometheus_io_scrape"}, "action": "keep", "regex": "true"},
				{"source_labels": []string{"__meta_kubernetes_pod_annotation_prometheus_io_path"}, "target_label": "__metrics_path__", "regex": "(.+)"},
				{"source_labels": []string{"__address__", "__meta_kubernetes_pod_annotation_prometheus_io_port"}, "target_label": "__address__",
					"regex": `([^:]+)(?::\d+)?;(\d+)`, "replacement": "$1:$2"},
				{"source_labels": []string{"__meta_kubernetes_namespace"}, "target_label": "kubernetes_namespace"},
				{"source_labels": []string{"__meta_kubernetes_pod_name"}, "target_label": "pod"},
			},
		}},
	})
}

// StartPrometheus runs Debian's Prometheus as a process of the node (it
// reaches the API server and the pods from the node's namespace) with
// PrometheusConfig, and returns its URL, reachable from the host. It stops
// with the node.
func (c *Cluster) StartPrometheus(ctx context.Context, name string, namespaces []string) (string, error) {
	kc, err := clientcmd.LoadFromFile(c.Kubeconfig)
	if err != nil {
		return "", err
	}
	tok := kc.AuthInfos[kc.Contexts[kc.CurrentContext].AuthInfo].Token
	if err := os.WriteFile(c.path("etc", "prometheus.token"), []byte(tok), 0o600); err != nil {
		return "", err
	}
	cfg, err := c.PrometheusConfig(namespaces, time.Second)
	if err != nil {
		return "", err
	}
	file := c.path("etc", name+".yml")
	if err := os.WriteFile(file, cfg, 0o644); err != nil {
		return "", err
	}
	// One port per Prometheus, from its name, so tests can run several.
	port := 9090 + int(hash(name)%500)
	if err := c.daemon(name, c.Tools.Prometheus,
		"--config.file="+file,
		"--storage.tsdb.path="+c.path(name+"-data"),
		fmt.Sprintf("--web.listen-address=%s:%d", c.NodeIP, port),
		"--log.level=warn",
	); err != nil {
		return "", err
	}
	url := fmt.Sprintf("http://%s:%d", c.NodeIP, port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url, nil
			}
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("prometheus not ready within 30s: %v", err)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func hash(s string) uint32 {
	h := uint32(2166136261)
	for _, b := range []byte(strings.ToLower(s)) {
		h = (h ^ uint32(b)) * 16777619
	}
	return h
}
