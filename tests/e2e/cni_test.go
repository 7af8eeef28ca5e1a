package e2e_test

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/planeless/planeless/inject"
	"github.com/planeless/planeless/proxy"
)

// With the webhook in CNI mode (--cni, as the chart's cni.enabled passes
// it), the real API server's PodSecurity admits injected pods into
// namespaces enforcing baseline and restricted, and planeless warns about
// nothing: what it adds needs no privilege.
func TestCNIModeIsAdmittedWherePodSecurityEnforcesRestricted(t *testing.T) {
	s := bareStack(t)
	s.webhook = newWebhookProcess(t, s.bin)
	pair := s.ca.Issue(t, s.webhook.certDir, "127.0.0.1")
	s.webhook.certFile, s.webhook.keyFile = pair.CertFile, pair.KeyFile
	s.webhook.args = []string{"--tls-cert-file=" + pair.CertFile, "--tls-key-file=" + pair.KeyFile, "--cert-mode=files", "--cni"}
	s.webhook.start()
	s.createNamespace(appNS, map[string]string{proxy.LabelInject: "enabled"})
	s.helm(append([]string{"install", release, chartDir(), "--namespace", releaseNS, "--create-namespace", "--set", "cni.enabled=true"}, s.webhookValues()...)...)
	s.waitInjecting()

	for _, level := range []string{"baseline", "restricted"} {
		t.Run(level, func(t *testing.T) {
			ns := "cni-" + level
			s.createNamespace(ns, map[string]string{proxy.LabelInject: "enabled", "pod-security.kubernetes.io/enforce": level})
			client, rec := s.warnings()
			pod := appPod("admitted")
			pod.Spec.SecurityContext = &corev1.PodSecurityContext{
				RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To(int64(1000)),
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			}
			pod.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{
				AllowPrivilegeEscalation: ptr.To(false), Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			}
			stored, err := client.CoreV1().Pods(ns).Create(t.Context(), pod, metav1.CreateOptions{})
			if err != nil {
				t.Fatalf("the injected pod was refused: %v", err)
			}
			if !injected(stored) || containerCount(stored, inject.ValidateName) != 1 || containerCount(stored, inject.InitName) != 0 {
				t.Errorf("not injected in CNI mode: %v", stored.Spec.InitContainers)
			}
			if slices.ContainsFunc(rec.all(), func(w string) bool { return strings.Contains(w, "Pod Security") }) {
				t.Errorf("a warning about Pod Security in CNI mode: %q", rec.all())
			}
		})
	}
}
