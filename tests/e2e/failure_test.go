package e2e_test

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// With the webhook down, failurePolicy decides: Fail refuses pods of
// injected namespaces with a clear error while kube-system and the webhook's
// own namespace still admit pods; Ignore creates them uninjected. With the
// webhook back, injection resumes.
func TestWebhookDown(t *testing.T) {
	s := startStack(t) // the chart's default: failurePolicy Fail
	ctx := t.Context()
	s.label("kube-system", "planeless.dev/inject", "enabled")
	s.label(releaseNS, "planeless.dev/inject", "enabled")
	s.webhook.stop()

	t.Run("fail refuses pods of injected namespaces, naming the webhook", func(t *testing.T) {
		_, err := s.client.CoreV1().Pods(appNS).Create(ctx, appPod("refused"), metav1.CreateOptions{})
		if err == nil {
			t.Fatal("a pod was admitted without the webhook")
		}
		if !strings.Contains(err.Error(), `failed calling webhook "inject.planeless.dev"`) {
			t.Errorf("the error does not name the webhook: %v", err)
		}
	})
	t.Run("pods opted out by annotation or on the host network are created anyway", func(t *testing.T) {
		// The API server decides both (the webhook's matchConditions),
		// as it decides the opt-out label (its objectSelector).
		for name, edit := range map[string]func(*corev1.Pod){
			"annotation": func(p *corev1.Pod) { p.Annotations = map[string]string{"planeless.dev/inject": "false"} },
			"label":      func(p *corev1.Pod) { p.Labels["planeless.dev/inject"] = "false" },
			"hostnet":    func(p *corev1.Pod) { p.Spec.HostNetwork = true },
		} {
			pod := appPod("opted-out-" + name)
			edit(pod)
			stored, err := s.client.CoreV1().Pods(appNS).Create(ctx, pod, metav1.CreateOptions{})
			if err != nil {
				t.Errorf("a pod opted out by %s was refused with the webhook down: %v", name, err)
				continue
			}
			if injected(stored) {
				t.Errorf("a pod opted out by %s was injected", name)
			}
		}
	})
	t.Run("kube-system and the webhook's namespace still admit pods", func(t *testing.T) {
		for _, ns := range []string{"kube-system", releaseNS} {
			pod := appPod("admitted")
			if _, err := s.client.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
				t.Errorf("creating a pod in %s with the webhook down: %v", ns, err)
			}
		}
	})
	t.Run("ignore creates pods uninjected", func(t *testing.T) {
		s.helm("upgrade", release, chartDir(), "--namespace", releaseNS, "--reuse-values", "--set", "webhook.failurePolicy=Ignore")
		// Refused until the API server has the new policy; each refused
		// attempt stores nothing.
		var name string
		eventually(t, "failurePolicy Ignore to be in force", func() bool {
			pod := appPod("")
			pod.GenerateName = "ignored-"
			pod, err := s.client.CoreV1().Pods(appNS).Create(ctx, pod, metav1.CreateOptions{})
			if err == nil {
				name = pod.Name
			}
			return err == nil
		})
		pod, err := s.client.CoreV1().Pods(appNS).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if injected(pod) {
			t.Error("a pod was injected with the webhook down")
		}
	})
	t.Run("injection resumes when the webhook is back", func(t *testing.T) {
		s.webhook.start()
		s.waitInjecting()
		pod, err := s.client.CoreV1().Pods(appNS).Create(ctx, appPod("back"), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		requireInjected(t, pod)
	})
}
