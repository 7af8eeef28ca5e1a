package e2e_test

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/planeless/planeless/proxy"
)

// A namespace whose Pod Security enforces baseline or restricted refuses
// injected pods (planeless-init needs NET_ADMIN and NET_RAW): the API
// server's PodSecurity refuses the pod, and the client hears from
// planeless why and what to do.
func TestPodSecurityRefusalComesWithAWarning(t *testing.T) {
	s := startStack(t)
	for _, level := range []string{"baseline", "restricted"} {
		t.Run(level, func(t *testing.T) {
			ns := "enforcing-" + level
			s.createNamespace(ns, map[string]string{proxy.LabelInject: "enabled", "pod-security.kubernetes.io/enforce": level})
			client, rec := s.warnings()
			pod := appPod("refused")
			_, err := client.CoreV1().Pods(ns).Create(t.Context(), pod, metav1.CreateOptions{})
			if err == nil || !strings.Contains(err.Error(), "violates PodSecurity") {
				t.Fatalf("the pod was not refused by Pod Security: %v", err)
			}
			if !slices.ContainsFunc(rec.all(), func(w string) bool {
				return strings.Contains(w, "enforces Pod Security baseline or restricted") && strings.Contains(w, "pod-security.kubernetes.io/enforce=privileged")
			}) {
				t.Errorf("no warning from planeless with the refusal: %q", rec.all())
			}
		})
	}
	t.Run("privileged namespaces inject without the warning", func(t *testing.T) {
		s.createNamespace("privileged", map[string]string{proxy.LabelInject: "enabled", "pod-security.kubernetes.io/enforce": "privileged"})
		client, rec := s.warnings()
		stored, err := client.CoreV1().Pods("privileged").Create(t.Context(), appPod("allowed"), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		requireInjected(t, stored)
		if slices.ContainsFunc(rec.all(), func(w string) bool { return strings.Contains(w, "Pod Security") }) {
			t.Errorf("a warning about Pod Security in a privileged namespace: %q", rec.all())
		}
	})
}

// A namespace whose ResourceQuota requires CPU and memory limits admits
// injected pods: every container planeless adds has both by default.
func TestAQuotaRequiringLimitsAdmitsInjectedPods(t *testing.T) {
	s := startStack(t)
	ctx := t.Context()
	hard := corev1.ResourceList{
		corev1.ResourceLimitsCPU: resource.MustParse("20"), corev1.ResourceLimitsMemory: resource.MustParse("20Gi"),
		corev1.ResourceRequestsCPU: resource.MustParse("20"), corev1.ResourceRequestsMemory: resource.MustParse("20Gi"),
	}
	quota, err := s.client.CoreV1().ResourceQuotas(appNS).Create(ctx, &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Name: "limits-required"},
		Spec:       corev1.ResourceQuotaSpec{Hard: hard},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// No controller manager here: account the quota as it would.
	quota.Status = corev1.ResourceQuotaStatus{Hard: hard, Used: corev1.ResourceList{
		corev1.ResourceLimitsCPU: resource.MustParse("0"), corev1.ResourceLimitsMemory: resource.MustParse("0"),
		corev1.ResourceRequestsCPU: resource.MustParse("0"), corev1.ResourceRequestsMemory: resource.MustParse("0"),
	}}
	if _, err := s.client.CoreV1().ResourceQuotas(appNS).UpdateStatus(ctx, quota, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod := appPod("limited")
	pod.Spec.Containers[0].Resources = corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
		Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("128Mi")},
	}
	eventually(t, "the quota to be enforced", func() bool {
		bare := appPod("no-limits")
		_, err := s.client.CoreV1().Pods(appNS).Create(ctx, bare, dryRun())
		return err != nil && strings.Contains(err.Error(), "must specify limits")
	})
	stored, err := s.client.CoreV1().Pods(appNS).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("the quota refuses the injected pod: %v", err)
	}
	requireInjected(t, stored)
}
