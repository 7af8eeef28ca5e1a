package chart_test

import (
	"os/exec"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/planeless/planeless/tests/kube"
)

// `kubectl drain` evicts the webhook's pods without --delete-emptydir-data:
// the certificate is not in an emptyDir, which drain treats as local data
// it may not lose. A pod of the chart's Deployment, in every TLS mode, on a
// node drained for real by kubectl (server-side dry run); a pod with an
// emptyDir beside it shows the check is drain's own.
func TestDrainEvictsTheWebhookPods(t *testing.T) {
	cluster, _ := startCluster(t)
	tests := map[string]struct {
		spec    func(t *testing.T) corev1.PodSpec
		wantErr string
	}{
		"the webhook of the default chart": {spec: webhookPodSpec("")},
		"the webhook with cert-manager":    {spec: webhookPodSpec("tls: {mode: certManager}\n")},
		"a pod with an emptyDir": {
			spec: func(t *testing.T) corev1.PodSpec {
				spec := webhookPodSpec("")(t)
				spec.Volumes = append(spec.Volumes, corev1.Volume{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
				return spec
			},
			wantErr: "cannot delete Pods with local storage",
		},
	}
	n := 0
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			n++
			node := "node-" + string(rune('a'+n))
			if _, err := cluster.Client.CoreV1().Nodes().Create(t.Context(), &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: node}}, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			spec := tc.spec(t)
			spec.NodeName = node
			pod := &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{
					Name: "webhook-on-" + node, Namespace: namespace,
					OwnerReferences: []metav1.OwnerReference{{
						APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "planeless-5d4f8b9c7",
						UID: types.UID("9d9ab9b4-2d6e-4a43-9a57-0f0e6f1b0f3a"), Controller: ptr(true),
					}},
				},
				Spec: spec,
			}
			if _, err := cluster.Client.CoreV1().Pods(namespace).Create(t.Context(), pod, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			out, err := exec.CommandContext(t.Context(), kube.Kubectl(t), "--kubeconfig", cluster.Kubeconfig,
				"drain", node, "--dry-run=server", "--timeout=60s").CombinedOutput()
			if tc.wantErr == "" && err != nil {
				t.Fatalf("kubectl drain stops on the webhook's pod: %v\n%s", err, out)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(string(out), tc.wantErr)) {
				t.Fatalf("kubectl drain did not refuse: %v\n%s", err, out)
			}
			if tc.wantErr == "" && !strings.Contains(string(out), "evicting pod "+namespace+"/"+pod.Name) {
				t.Errorf("kubectl drain did not name the pod it would delete:\n%s", out)
			}
		})
	}
}

// webhookPodSpec is the pod spec of the chart's Deployment for values.
func webhookPodSpec(values string) func(t *testing.T) corev1.PodSpec {
	return func(t *testing.T) corev1.PodSpec {
		return typed[appsv1.Deployment](t, render(t, values), "Deployment").Spec.Template.Spec
	}
}
