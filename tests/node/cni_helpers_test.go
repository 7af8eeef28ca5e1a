package node

// What the CNI-mode test reads on the node: pods' network namespaces,
// containerd's CNI cache, the plugin run by hand, the API server's warnings.

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/planeless/planeless/cni"
	"github.com/planeless/planeless/inject"
)

// labelledNamespace creates a namespace with labels for the test.
func labelledNamespace(t *testing.T, c *Cluster, name string, labels map[string]string) {
	t.Helper()
	namespace(t, c, name, false)
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"labels": labels}})
	if _, err := c.Client.CoreV1().Namespaces().Patch(t.Context(), name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}

// validateFailed returns the message of the pod's failed
// planeless-validate, or "" when it has not failed.
func validateFailed(p *corev1.Pod) string {
	for _, s := range p.Status.InitContainerStatuses {
		if s.Name != inject.ValidateName {
			continue
		}
		for _, t := range []*corev1.ContainerStateTerminated{s.State.Terminated, s.LastTerminationState.Terminated} {
			if t != nil && t.ExitCode != 0 {
				return t.Message
			}
		}
	}
	return ""
}

func find(cs []corev1.Container, name string) *corev1.Container {
	for i := range cs {
		if cs[i].Name == name {
			return &cs[i]
		}
	}
	return nil
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// podPID returns a process of the pod (its sandbox's), found by the pod's
// cgroup under the node's.
func podPID(t *testing.T, c *Cluster, p *corev1.Pod) string {
	t.Helper()
	pid := findPodPID(c, p)
	if pid == "" {
		t.Fatalf("no process of pod %s/%s in the node's cgroups", p.Namespace, p.Name)
	}
	return pid
}

func findPodPID(c *Cluster, p *corev1.Pod) string {
	want := "pod" + string(p.UID)
	for _, h := range cgroupHierarchies() {
		var pid string
		_ = filepath.WalkDir(filepath.Join("/sys/fs/cgroup", h, c.cgroup()), func(path string, d os.DirEntry, err error) error {
			if err != nil || pid != "" || !d.IsDir() || !strings.Contains(path, want) {
				return nil
			}
			b, _ := os.ReadFile(filepath.Join(path, "cgroup.procs"))
			if f := strings.Fields(string(b)); len(f) > 0 {
				pid = f[0]
				return filepath.SkipAll
			}
			return nil
		})
		if pid != "" {
			return pid
		}
	}
	return ""
}

var counters = regexp.MustCompile(`\[\d+:\d+\]`)

// savedRules is the pod's nat table, IPv4 then IPv6, as iptables-save
// prints it, without its timestamped comments and with counters zeroed.
func savedRules(t *testing.T, c *Cluster, p *corev1.Pod) string {
	t.Helper()
	pid := podPID(t, c, p)
	var b strings.Builder
	for _, save := range []string{"iptables-nft-save", "ip6tables-nft-save"} {
		out, err := exec.CommandContext(t.Context(), "nsenter", "--net=/proc/"+pid+"/ns/net", save, "-t", "nat").CombinedOutput()
		if err != nil {
			t.Fatalf("%s in pod %s: %v\n%s", save, p.Name, err, out)
		}
		for line := range strings.Lines(string(out)) {
			if !strings.HasPrefix(line, "#") {
				b.WriteString(counters.ReplaceAllString(line, "[0:0]"))
			}
		}
	}
	return b.String()
}

// pluginCheck runs the plugin the agent installed, as the runtime would
// for CHECK: its entry of the node's configuration list, the pod's network
// namespace, from the node's network (where the API server's Service
// address is routed).
func pluginCheck(t *testing.T, c *Cluster, p *corev1.Pod) (string, error) {
	t.Helper()
	var list struct {
		CNIVersion string            `json:"cniVersion"`
		Name       string            `json:"name"`
		Plugins    []json.RawMessage `json:"plugins"`
	}
	if err := json.Unmarshal(readFile(t, filepath.Join(c.CNIConfDir(), "10-planeless.conflist")), &list); err != nil {
		t.Fatal(err)
	}
	var entry map[string]any
	for _, raw := range list.Plugins {
		var m map[string]any
		if json.Unmarshal(raw, &m) == nil && m["type"] == cni.PluginType {
			entry = m
		}
	}
	if entry == nil {
		t.Fatal("the node's configuration does not chain the plugin")
	}
	entry["cniVersion"], entry["name"] = list.CNIVersion, list.Name
	entry["prevResult"] = map[string]any{"cniVersion": list.CNIVersion, "interfaces": []any{map[string]any{"name": "eth0"}},
		"ips": []any{map[string]any{"address": p.Status.PodIP + "/24", "interface": 0}}}
	stdin, _ := json.Marshal(entry)
	cmd := exec.CommandContext(t.Context(), "nsenter", "--net=/run/netns/"+c.netns(), "--", filepath.Join(c.CNIBinDir(), cni.PluginType))
	cmd.Stdin = bytes.NewReader(stdin)
	cmd.Env = append(os.Environ(), "CNI_COMMAND=CHECK", "CNI_CONTAINERID=test-check", "CNI_IFNAME=eth0",
		"CNI_NETNS=/proc/"+podPID(t, c, p)+"/ns/net", "CNI_PATH="+c.CNIBinDir(),
		"CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE="+p.Namespace+";K8S_POD_NAME="+p.Name)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// cachedResult reports whether containerd still holds the CNI result of
// the pod's sandbox (removed by a successful DEL).
func cachedResult(t *testing.T, c *Cluster, ns, name string) bool {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(c.path("mnt", "cni"), "results", "*"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err == nil && bytes.Contains(b, []byte(`"K8S_POD_NAMESPACE","`+ns+`"`)) && bytes.Contains(b, []byte(`"K8S_POD_NAME","`+name+`"`)) {
			return true
		}
	}
	return false
}

// warningRecorder keeps the warnings the API server sent.
type warningRecorder struct {
	mu       sync.Mutex
	warnings []string
}

func (r *warningRecorder) HandleWarningHeader(_ int, _ string, text string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.warnings = append(r.warnings, text)
}

func (r *warningRecorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.warnings...)
}

func (r *warningRecorder) has(parts ...string) bool {
	for _, w := range r.all() {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(w, p)
		}
		if ok {
			return true
		}
	}
	return false
}

func warningClient(t *testing.T, c *Cluster) (kubernetes.Interface, *warningRecorder) {
	t.Helper()
	rec := &warningRecorder{}
	cfg := rest.CopyConfig(c.Config)
	cfg.WarningHandler = rec
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return client, rec
}

func ptrTo[T any](v T) *T { return &v }
