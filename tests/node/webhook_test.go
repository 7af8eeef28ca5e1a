package node

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/planeless/planeless/tests/need"
)

func plainPod(name string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": name}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "app", Image: TestappImage, Args: []string{"rest", "-listen", ":8080"},
		}}},
	}
}

// The webhook runs as real pods behind a Service. Killing one of its two
// pods changes nothing; with none left, failurePolicy decides as the
// chart's README says: Fail (the default) refuses pods in labelled
// namespaces, Ignore creates them uninjected; kube-system is never sent
// to the webhook, so its pods start either way.
//
// Not parallel: it takes the webhook away from the whole node, and puts it
// back before the parallel tests start.
func TestWebhookDownFollowsTheFailurePolicy(t *testing.T) {
	c := cluster(t)
	const ns = "webhook-down"
	namespace(t, c, ns, true)
	ctx := t.Context()
	pods := c.Client.CoreV1().Pods(ns)
	webhookPods := func() []corev1.Pod {
		return waitPodsReady(t, c, PlanelessNamespace, "app.kubernetes.io/name=planeless", 2)
	}
	defer func() {
		// Back to the chart's defaults, ready, for the tests that follow.
		if err := c.InstallPlaneless(ctx); err != nil {
			t.Errorf("reinstalling planeless: %v", err)
		}
	}()

	t.Run("one webhook pod killed: pods are still injected", func(t *testing.T) {
		victim := webhookPods()[0].Name
		zero := int64(0)
		if err := c.Client.CoreV1().Pods(PlanelessNamespace).Delete(ctx, victim, metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
			t.Fatal(err)
		}
		// Until the Service forgets the killed pod, the API server may
		// still pick it: those creations are refused (Fail), never let
		// through uninjected.
		var p *corev1.Pod
		refused := 0
		waitFor(t, 30*time.Second, "a pod created with one webhook pod killed", func() (bool, error) {
			var err error
			p, err = pods.Create(ctx, plainPod("while-one-is-killed"), metav1.CreateOptions{})
			if err != nil {
				refused++
				if !strings.Contains(err.Error(), "failed calling webhook") {
					t.Fatalf("unexpected refusal: %v", err)
				}
			}
			return err == nil, err
		})
		t.Logf("%d creations refused while the Service still sent the API server to the killed pod", refused)
		if !injected(p) {
			t.Errorf("the pod created with one webhook pod killed is not injected")
		}
	})

	scaleToZero := func() {
		t.Helper()
		kubectl(t, c, "-n", PlanelessNamespace, "scale", "deployment", "-l", "app.kubernetes.io/name=planeless", "--replicas=0")
		waitFor(t, time.Minute, "no webhook pod left", func() (bool, error) {
			list, err := c.Client.CoreV1().Pods(PlanelessNamespace).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=planeless"})
			return err == nil && len(list.Items) == 0, err
		})
	}
	scaleToZero()
	t.Run("failurePolicy Fail refuses pods in labelled namespaces", func(t *testing.T) {
		_, err := pods.Create(ctx, plainPod("refused"), metav1.CreateOptions{})
		if err == nil || !strings.Contains(err.Error(), "failed calling webhook") {
			t.Fatalf("creating a pod with the webhook down: %v, want a refusal naming the webhook", err)
		}
		t.Logf("refused as documented: %v", err)
	})

	t.Run("kube-system is left alone", func(t *testing.T) {
		p, err := c.Client.CoreV1().Pods("kube-system").Create(ctx, plainPod("webhook-down-probe"), metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("creating a pod in kube-system with the webhook down: %v", err)
		}
		defer c.Client.CoreV1().Pods("kube-system").Delete(ctx, p.Name, metav1.DeleteOptions{})
		if injected(p) {
			t.Errorf("a kube-system pod was injected")
		}
		waitPodsReady(t, c, "kube-system", "app=webhook-down-probe", 1)
	})

	t.Run("failurePolicy Ignore creates them uninjected", func(t *testing.T) {
		if _, err := c.Helm(ctx, "upgrade", "planeless", chartPath(), "-n", PlanelessNamespace, "--reuse-values",
			"--set", "webhook.failurePolicy=Ignore"); err != nil {
			t.Fatal(err)
		}
		scaleToZero()
		var p *corev1.Pod
		waitFor(t, 30*time.Second, "a pod admitted with failurePolicy Ignore", func() (bool, error) {
			var err error
			p, err = pods.Create(ctx, plainPod("ignored"), metav1.CreateOptions{})
			return err == nil, err
		})
		if injected(p) {
			t.Errorf("the pod admitted without a webhook is injected")
		}
		waitPodsReady(t, c, ns, "app=ignored", 1)
	})
}

func chartPath() string { return filepath.Join(need.RepoRoot(), "charts", "planeless") }
