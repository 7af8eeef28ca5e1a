package chart_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/planeless/planeless/tests/harness"
)

const cniValues = "cni: {enabled: true, confFile: 10-calico.conflist, binDir: /var/lib/cni/bin, confDir: /var/lib/cni/net.d}\n"

// named returns the rendered object of kind and name.
func named[T any](t *testing.T, objs []*unstructured.Unstructured, kind, name string) *T {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			out := new(T)
			if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(o.Object, out, true); err != nil {
				t.Fatal(err)
			}
			return out
		}
	}
	t.Fatalf("no %s %s rendered", kind, name)
	return nil
}

// Only cni.enabled installs the agent, and it turns the webhook's CNI mode
// on: the two go together.
func TestCNIModeIsTheWebhookFlagAndTheAgent(t *testing.T) {
	for values, want := range map[string]bool{"": false, cniValues: true} {
		objs := render(t, values)
		args := typed[appsv1.Deployment](t, objs, "Deployment").Spec.Template.Spec.Containers[0].Args
		if flag := "--cni=" + map[bool]string{true: "true", false: "false"}[want]; !slices.Contains(args, flag) {
			t.Errorf("values %q: the webhook's args lack %s: %v", values, flag, args)
		}
		if got := kinds(objs)["DaemonSet"]; got != want {
			t.Errorf("values %q: a DaemonSet rendered: %v, want %v", values, got, want)
		}
	}
}

// The agent is the only privileged part, and no more than it needs: root
// and the host's network and CNI folders, no capability, no privileged
// mode; its pods are not the webhook's Service's; its folders are mounted
// where they are on the node; it may read and delete pods, nothing else.
func TestTheCNIAgentHasWhatItNeedsAndNoMore(t *testing.T) {
	objs := render(t, cniValues)
	ds := named[appsv1.DaemonSet](t, objs, "DaemonSet", "planeless-cni")
	pod := ds.Spec.Template.Spec
	c := pod.Containers[0]
	sc := c.SecurityContext
	if sc == nil || *sc.RunAsUser != 0 || *sc.Privileged || *sc.AllowPrivilegeEscalation || !*sc.ReadOnlyRootFilesystem ||
		!slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("the agent's security context: %+v", sc)
	}
	if !pod.HostNetwork || pod.HostPID || pod.HostIPC {
		t.Errorf("the agent's host namespaces: network %v pid %v ipc %v; want the network only", pod.HostNetwork, pod.HostPID, pod.HostIPC)
	}
	var hostPaths []string
	for _, v := range pod.Volumes {
		if v.HostPath != nil {
			hostPaths = append(hostPaths, v.HostPath.Path)
		}
	}
	slices.Sort(hostPaths)
	if !slices.Equal(hostPaths, []string{"/var/lib/cni/bin", "/var/lib/cni/net.d"}) {
		t.Errorf("the agent mounts host paths %v, want the CNI folders only", hostPaths)
	}
	for _, m := range c.VolumeMounts {
		if m.Name == "cni-bin" && m.MountPath != "/var/lib/cni/bin" || m.Name == "cni-conf" && m.MountPath != "/var/lib/cni/net.d" {
			t.Errorf("%s is mounted at %s, not where it is on the node", m.Name, m.MountPath)
		}
	}
	svc := typed[corev1.Service](t, objs, "Service")
	if matches(svc.Spec.Selector, ds.Spec.Template.Labels) {
		t.Errorf("the webhook's Service selects the agent's pods: %v", ds.Spec.Template.Labels)
	}
	cr := named[rbacv1.ClusterRole](t, objs, "ClusterRole", "planeless-cni")
	if len(cr.Rules) != 1 || !slices.Equal(cr.Rules[0].Resources, []string{"pods"}) || !slices.Equal(cr.Rules[0].Verbs, []string{"get", "list", "watch", "delete"}) {
		t.Errorf("the agent's ClusterRole: %+v", cr.Rules)
	}
	for _, want := range []string{"--cni-bin-dir=/var/lib/cni/bin", "--cni-conf-dir=/var/lib/cni/net.d", "--cni-conf-file=10-calico.conflist", "--exclude-namespaces=kube-system"} {
		if !slices.Contains(c.Args, want) {
			t.Errorf("the agent's args lack %s: %v", want, c.Args)
		}
	}
	// Every flag the chart passes exists, with a value of its type.
	out, err := exec.CommandContext(t.Context(), harness.Planeless(t), append(append([]string{}, c.Args...), "--help")...).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "cni-agent") {
		t.Errorf("planeless %v: %v\n%s", c.Args, err, out)
	}
}

func matches(selector, labels map[string]string) bool {
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}
