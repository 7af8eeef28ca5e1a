package node

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/planeless/planeless/cni"
	"github.com/planeless/planeless/cni/agent"
	"github.com/planeless/planeless/inject"
	"github.com/planeless/planeless/tests/golden"
	"github.com/planeless/planeless/tests/need"
)

// CNI mode runs as a second release of the chart next to the init-mode
// one: its own namespace, webhook and namespace label, and the agent,
// which chains the plugin into the node's configuration for every pod of
// the node (the plugin passes the other tests' pods through).
const (
	cniRelease   = "planeless-cni"
	cniLabel     = "planeless.dev/inject-cni"
	agentLabel   = "planeless.test/cni-agent"
	agentPods    = "app.kubernetes.io/name=planeless-cni"
	restrictedNS = "pod-security.kubernetes.io/enforce"
)

// restrictedApp is testapp as a namespace enforcing restricted admits it.
func restrictedApp(name string) string {
	return `
apiVersion: apps/v1
kind: Deployment
metadata: {name: ` + name + `}
spec:
  replicas: 1
  selector: {matchLabels: {app: ` + name + `}}
  template:
    metadata: {labels: {app: ` + name + `}}
    spec:
      securityContext: {runAsNonRoot: true, runAsUser: 1000, seccompProfile: {type: RuntimeDefault}}
      containers:
        - name: app
          image: ` + TestappImage + `
          args: [rest, -listen, ":8080", -name, ` + name + `]
          ports: [{name: http, containerPort: 8080}]
          securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
`
}

// CNI mode on the real node: the chart's agent chains planeless's plugin
// into the node's real CNI configuration (containerd, the bridge plugin),
// and a namespace enforcing Pod Security restricted admits injected pods.
// One agent and one release for the whole sequence, in this order:
// a pod created before the agent fails its check and never serves; the
// agent comes, the pod is recreated and serves through Envoy; the rules
// the plugin installed are the init container's; containerd's DEL and the
// plugin's CHECK work; init mode in the same namespace is refused with
// planeless's warning; an agent restart and the uninstall give the node's
// configuration back byte for byte.
func TestCNIModeOnTheRealNode(t *testing.T) {
	t.Parallel()
	c := cluster(t)
	ctx := t.Context()
	conflist := filepath.Join(c.CNIConfDir(), "10-planeless.conflist")
	pristine := readFile(t, conflist)

	installCNIRelease(t, c)
	// Before the namespaces go (cleanups run after defers).
	defer func() {
		if t.Failed() {
			cniDiagnostics(t, c, conflist)
		}
	}()
	const ns = "cni-restricted"
	labelledNamespace(t, c, ns, map[string]string{cniLabel: "enabled", restrictedNS: "restricted", restrictedNS + "-version": "latest"})

	// The API server calls a new webhook once it has seen its
	// configuration and the webhook has filled its caBundle.
	waitFor(t, time.Minute, "the CNI-mode webhook injecting "+ns, func() (bool, error) {
		pod := plainPod("probe")
		pod.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsNonRoot: ptrTo(true), RunAsUser: ptrTo(int64(1000)), SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}}
		pod.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{AllowPrivilegeEscalation: ptrTo(false), Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}
		p, err := c.Client.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		return err == nil && injected(p), err
	})

	t.Run("a pod created before the agent fails its check and does not serve", func(t *testing.T) {
		apply(t, c, ns, restrictedApp("early"))
		var p corev1.Pod
		waitFor(t, 2*time.Minute, "the early pod's check failing", func() (bool, error) {
			ps := pods(t, c, ns, "app=early")
			if len(ps) != 1 {
				return false, fmt.Errorf("%d pods", len(ps))
			}
			p = ps[0]
			return validateFailed(&p) != "", fmt.Errorf("%s", podSummary(&p))
		})
		if !injected(&p) || find(p.Spec.InitContainers, inject.ValidateName) == nil || find(p.Spec.InitContainers, inject.InitName) != nil {
			t.Fatalf("the pod is not injected in CNI mode: %v", p.Spec.InitContainers)
		}
		if msg := validateFailed(&p); !strings.Contains(msg, "CNI mode") || !strings.Contains(msg, "agent") {
			t.Errorf("the check's message does not say what is wrong: %q", msg)
		}
		if podReady(&p) || len(p.Status.ContainerStatuses) > 0 && p.Status.ContainerStatuses[0].State.Running != nil {
			t.Errorf("the app runs without its rules: %s", podSummary(&p))
		}
		if p.Status.PodIP != "" {
			if _, err := c.HTTPClient(3 * time.Second).Get("http://" + p.Status.PodIP + ":8080/"); err == nil {
				t.Errorf("the pod serves without its proxy")
			}
		}
	})

	t.Run("once the agent is up the pod is recreated and serves through Envoy", func(t *testing.T) {
		kubectl(t, c, "label", "node", c.NodeName, agentLabel+"=ready", "--overwrite")
		waitPodsReady(t, c, cniRelease, agentPods, 1)
		if !agent.Has(filepath.Base(conflist), readFile(t, conflist)) {
			t.Fatalf("the agent is ready but %s does not chain the plugin:\n%s", conflist, readFile(t, conflist))
		}
		p := waitPodsReady(t, c, ns, "app=early", 1)[0]
		before := stats(t, c, &p)
		const n = 5
		for i := range n {
			if status, body := get(t, c, fmt.Sprintf("http://%s:8080/cni/%d", p.Status.PodIP, i)); status != 200 {
				t.Fatalf("GET: %d %s", status, body)
			}
		}
		inbound := map[string]string{"direction": "inbound", "response_code": "200"}
		if got := stats(t, c, &p).Sum(requestsTotal, inbound) - before.Sum(requestsTotal, inbound); got != n {
			t.Errorf("Envoy counted %v inbound requests, want %d", got, n)
		}
	})

	// The same pod in both modes: the plugin's rules and planeless-init's;
	// and once more, not injected, through the same chain.
	initNS, cniNS, plainNS := "cni-rules-init", "cni-rules-cni", "cni-rules-plain"
	namespace(t, c, initNS, true)
	namespace(t, c, plainNS, false)
	labelledNamespace(t, c, cniNS, map[string]string{cniLabel: "enabled"})
	for _, ns := range []string{initNS, cniNS, plainNS} {
		apply(t, c, ns, restrictedApp("rules"))
	}
	initPod := waitPodsReady(t, c, initNS, "app=rules", 1)[0]
	cniPod := waitPodsReady(t, c, cniNS, "app=rules", 1)[0]
	uninjected := waitPodsReady(t, c, plainNS, "app=rules", 1)[0]

	t.Run("a pod planeless did not inject goes through the plugin untouched", func(t *testing.T) {
		if injected(&uninjected) {
			t.Fatal("the pod of an unlabelled namespace is injected")
		}
		if rules := savedRules(t, c, &uninjected); strings.Contains(rules, "PLANELESS") {
			t.Errorf("the plugin installed rules in a pod it should pass through:\n%s", rules)
		}
	})

	t.Run("the plugin installs exactly the init container's rules", func(t *testing.T) {
		fromInit, fromPlugin := savedRules(t, c, &initPod), savedRules(t, c, &cniPod)
		if fromInit != fromPlugin {
			t.Errorf("planeless-init installed:\n%s\nthe plugin:\n%s", fromInit, fromPlugin)
		}
		golden.Assert(t, filepath.Join("testdata", "rules.golden"), []byte(fromPlugin))
	})

	t.Run("CHECK passes with the rules and names the pod when one is missing", func(t *testing.T) {
		if out, err := pluginCheck(t, c, &cniPod); err != nil {
			t.Fatalf("CHECK of a pod with its rules: %v\n%s", err, out)
		}
		pid := podPID(t, c, &cniPod)
		if out, err := exec.CommandContext(ctx, "nsenter", "--net=/proc/"+pid+"/ns/net", "iptables-nft", "-t", "nat", "-D", "OUTPUT",
			"-p", "tcp", "-m", "comment", "--comment", "planeless/outbound", "-j", "PLANELESS_OUTPUT").CombinedOutput(); err != nil {
			t.Fatalf("removing a rule: %v\n%s", err, out)
		}
		out, err := pluginCheck(t, c, &cniPod)
		if err == nil || !strings.Contains(out, "pod "+cniNS+"/"+cniPod.Name) || !strings.Contains(out, "planeless/outbound") {
			t.Errorf("CHECK of a pod missing a rule: %v\n%s", err, out)
		}
	})

	t.Run("containerd's DEL through the chain lets the pod go", func(t *testing.T) {
		if !cachedResult(t, c, cniNS, cniPod.Name) {
			t.Fatal("containerd holds no CNI result of the pod: nothing to see DEL remove")
		}
		zero := int64(0)
		if err := c.Client.CoreV1().Pods(cniNS).Delete(ctx, cniPod.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, time.Minute, "the pod gone", func() (bool, error) {
			for _, p := range pods(t, c, cniNS, "app=rules") {
				if p.UID == cniPod.UID {
					return false, nil
				}
			}
			return true, nil
		})
		// The kubelet removed the sandbox: containerd ran DEL on every
		// plugin of the list, which removed the cached result.
		waitFor(t, time.Minute, "the sandbox's network torn down", func() (bool, error) {
			return !cachedResult(t, c, cniNS, cniPod.Name), nil
		})
	})

	t.Run("init mode in a namespace enforcing restricted is refused, with planeless's warning", func(t *testing.T) {
		const refusedNS = "cni-init-restricted"
		labelledNamespace(t, c, refusedNS, map[string]string{"planeless.dev/inject": "enabled", restrictedNS: "restricted"})
		client, warnings := warningClient(t, c)
		pod := plainPod("refused")
		pod.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsNonRoot: ptrTo(true), RunAsUser: ptrTo(int64(1000)), SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}}
		pod.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{AllowPrivilegeEscalation: ptrTo(false), Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}
		_, err := client.CoreV1().Pods(refusedNS).Create(ctx, pod, metav1.CreateOptions{})
		if err == nil || !strings.Contains(err.Error(), "violates PodSecurity") || !strings.Contains(err.Error(), inject.InitName) {
			t.Fatalf("init mode's pod was not refused for %s: %v", inject.InitName, err)
		}
		if !warnings.has("enforces Pod Security baseline or restricted", "CNI mode (chart value cni.enabled=true") {
			t.Errorf("no warning naming CNI mode with the refusal: %q", warnings.all())
		}
	})

	t.Run("an agent restart leaves the configuration as the agent keeps it", func(t *testing.T) {
		chained := readFile(t, conflist)
		old := waitPodsReady(t, c, cniRelease, agentPods, 1)[0]
		if err := c.Client.CoreV1().Pods(cniRelease).Delete(ctx, old.Name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 2*time.Minute, "a new agent ready", func() (bool, error) {
			ps := waitPodsReady(t, c, cniRelease, agentPods, 1)
			return ps[0].UID != old.UID, nil
		})
		if got := readFile(t, conflist); !bytes.Equal(got, chained) {
			t.Errorf("after the restart:\n%s\nbefore:\n%s", got, chained)
		}
	})

	t.Run("the uninstall gives the node's configuration back byte for byte", func(t *testing.T) {
		uninstallCNIRelease(t, c)
		if got := readFile(t, conflist); !bytes.Equal(got, pristine) {
			t.Errorf("after the uninstall:\n%s\nbefore the install:\n%s", got, pristine)
		}
		for _, gone := range []string{filepath.Join(c.CNIBinDir(), cni.PluginType), filepath.Join(c.CNIConfDir(), agent.StateDirName)} {
			if _, err := os.Stat(gone); !os.IsNotExist(err) {
				t.Errorf("%s is left behind: %v", gone, err)
			}
		}
	})
}

// cniDiagnostics logs what explains a failure: the agent's log, the
// node's configuration and plugins, the CNI pods' rules and checks, and
// what containerd said about CNI.
func cniDiagnostics(t *testing.T, c *Cluster, conflist string) {
	ctx := context.Background()
	out, _ := c.Kubectl(ctx, "-n", cniRelease, "logs", "-l", agentPods, "--tail=50")
	t.Logf("agent log:\n%s", out)
	b, _ := os.ReadFile(conflist)
	bins, _ := filepath.Glob(filepath.Join(c.CNIBinDir(), "*"))
	t.Logf("%s:\n%s\nplugins: %v", conflist, b, bins)
	for _, ns := range []string{"cni-restricted", "cni-rules-cni"} {
		list, err := c.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			continue
		}
		for i := range list.Items {
			p := &list.Items[i]
			t.Logf("pod %s/%s: %s; check: %q", ns, p.Name, podSummary(p), validateFailed(p))
			if pid := findPodPID(c, p); pid != "" {
				rules, _ := exec.Command("nsenter", "--net=/proc/"+pid+"/ns/net", "iptables-nft-save", "-t", "nat").CombinedOutput()
				t.Logf("its nat table:\n%s", rules)
			}
		}
	}
	log, _ := os.ReadFile(c.path("logs", "containerd.log"))
	var cniLines []string
	for line := range strings.Lines(string(log)) {
		if strings.Contains(line, "cni") || strings.Contains(line, "CNI") || strings.Contains(line, "planeless-cni") {
			cniLines = append(cniLines, line)
		}
	}
	t.Logf("containerd about CNI (last 40):\n%s", strings.Join(cniLines[max(0, len(cniLines)-40):], ""))
}

// installCNIRelease installs the chart's second release in CNI mode, its
// agent waiting for the node's label, and removes it when the test ends.
func installCNIRelease(t *testing.T, c *Cluster) {
	t.Helper()
	values := filepath.Join(t.TempDir(), "values.yaml")
	v := map[string]any{
		"replicaCount":        1,
		"podDisruptionBudget": map[string]any{"enabled": false},
		"webhook":             map[string]any{"namespaceLabel": cniLabel},
		"cni": map[string]any{
			"enabled": true, "binDir": c.CNIBinDir(), "confDir": c.CNIConfDir(),
			"nodeSelector": map[string]string{agentLabel: "ready"},
		},
	}
	b, _ := yaml.Marshal(v)
	if err := os.WriteFile(values, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		uninstallCNIRelease(t, c)
		_, _ = c.Kubectl(context.Background(), "label", "node", c.NodeName, agentLabel+"-")
	})
	if out, err := c.Helm(t.Context(), "upgrade", "--install", cniRelease, filepath.Join(need.RepoRoot(), "charts", "planeless"),
		"--namespace", cniRelease, "--create-namespace", "--wait", "--timeout", "3m", "--values", values); err != nil {
		t.Fatalf("installing the CNI-mode release: %v\n%s", err, out)
	}
}

var uninstalled sync.Map

// uninstallCNIRelease removes the release and waits until its agent is
// gone (it gives the configuration back as it stops).
func uninstallCNIRelease(t *testing.T, c *Cluster) {
	t.Helper()
	if _, done := uninstalled.LoadOrStore(c, true); done {
		return
	}
	ctx := context.Background()
	if out, err := c.Helm(ctx, "uninstall", cniRelease, "--namespace", cniRelease, "--wait", "--timeout", "2m"); err != nil {
		t.Errorf("uninstalling the CNI-mode release: %v\n%s", err, out)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		list, err := c.Client.CoreV1().Pods(cniRelease).List(ctx, metav1.ListOptions{LabelSelector: agentPods})
		if err == nil && len(list.Items) == 0 {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Errorf("the agent's pod is still there 2m after the uninstall")
}
