package e2e_test

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The chart, pointed at the local webhook, installs, upgrades and
// uninstalls cleanly; after uninstall no webhook configuration is left and
// pods are created uninjected.
func TestChartInstallsUpgradesAndUninstalls(t *testing.T) {
	s := startStack(t)
	ctx := t.Context()

	if out := s.helm("status", release, "--namespace", releaseNS); !strings.Contains(out, "STATUS: deployed") {
		t.Errorf("helm status after install:\n%s", out)
	}
	pod, err := s.client.CoreV1().Pods(appNS).Create(ctx, appPod("installed"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	requireInjected(t, pod)

	s.helm("upgrade", release, chartDir(), "--namespace", releaseNS, "--reuse-values", "--set", "webhook.timeoutSeconds=5")
	mwc, err := s.client.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(ctx, "planeless", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := *mwc.Webhooks[0].TimeoutSeconds; got != 5 {
		t.Errorf("timeoutSeconds after upgrade = %d, want 5", got)
	}
	pod, err = s.client.CoreV1().Pods(appNS).Create(ctx, appPod("upgraded"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	requireInjected(t, pod)

	s.helm("uninstall", release, "--namespace", releaseNS, "--wait")
	s.requireNothingLeft()
	eventually(t, "pods to be created uninjected after uninstall", func() bool {
		pod, err := s.client.CoreV1().Pods(appNS).Create(ctx, appPod("after"), dryRun())
		return err == nil && !injected(pod)
	})
}

// The default chart (the webhook manages its own certificate) installs,
// keeps the certificate the webhook wrote across an upgrade, and uninstalls
// without leaving cluster-scoped objects behind.
func TestDefaultChartKeepsTheCertificateAcrossUpgradesAndUninstallsCleanly(t *testing.T) {
	s := bareStack(t)
	ctx := t.Context()
	s.helm("install", release, chartDir(), "--namespace", releaseNS, "--create-namespace")
	if _, err := s.client.AdmissionregistrationV1().ValidatingAdmissionPolicies().Get(ctx, "planeless-cabundle-only", metav1.GetOptions{}); err != nil {
		t.Errorf("the default chart installed no caBundle-only policy: %v", err)
	}

	// What webhook/certs writes into the chart's Secret.
	secret, err := s.client.CoreV1().Secrets(releaseNS).Get(ctx, "planeless-tls", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the chart created no TLS Secret: %v", err)
	}
	secret.Data = map[string][]byte{"ca.crt": s.ca.PEM, "tls.crt": []byte("cert"), "tls.key": []byte("key")}
	if _, err := s.client.CoreV1().Secrets(releaseNS).Update(ctx, secret, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	mwc, err := s.client.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(ctx, "planeless", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mwc.Webhooks[0].ClientConfig.CABundle = s.ca.PEM
	if _, err := s.client.AdmissionregistrationV1().MutatingWebhookConfigurations().Update(ctx, mwc, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}

	s.helm("upgrade", release, chartDir(), "--namespace", releaseNS, "--reuse-values", "--set", "replicaCount=3")
	secret, err = s.client.CoreV1().Secrets(releaseNS).Get(ctx, "planeless-tls", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if string(secret.Data["tls.crt"]) != "cert" || string(secret.Data["ca.crt"]) != string(s.ca.PEM) {
		t.Errorf("the upgrade dropped the certificate from the Secret: %v", keys(secret.Data))
	}
	mwc, err = s.client.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(ctx, "planeless", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if string(mwc.Webhooks[0].ClientConfig.CABundle) != string(s.ca.PEM) {
		t.Error("the upgrade dropped the caBundle the webhook keeps current")
	}

	s.helm("uninstall", release, "--namespace", releaseNS, "--wait")
	s.requireNothingLeft()
	crs, err := s.client.RbacV1().ClusterRoles().List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/instance=" + release})
	if err != nil || len(crs.Items) != 0 {
		t.Errorf("ClusterRoles left after uninstall: %d (err %v)", len(crs.Items), err)
	}
	crbs, err := s.client.RbacV1().ClusterRoleBindings().List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/instance=" + release})
	if err != nil || len(crbs.Items) != 0 {
		t.Errorf("ClusterRoleBindings left after uninstall: %d (err %v)", len(crbs.Items), err)
	}
	if _, err := s.client.CoreV1().Secrets(releaseNS).Get(ctx, "planeless-tls", metav1.GetOptions{}); err == nil {
		t.Error("the TLS Secret is left after uninstall")
	}
	vaps, err := s.client.AdmissionregistrationV1().ValidatingAdmissionPolicies().List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/instance=" + release})
	if err != nil || len(vaps.Items) != 0 {
		t.Errorf("ValidatingAdmissionPolicies left after uninstall: %d (err %v)", len(vaps.Items), err)
	}
	bindings, err := s.client.AdmissionregistrationV1().ValidatingAdmissionPolicyBindings().List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/instance=" + release})
	if err != nil || len(bindings.Items) != 0 {
		t.Errorf("ValidatingAdmissionPolicyBindings left after uninstall: %d (err %v)", len(bindings.Items), err)
	}
}

// requireNothingLeft checks that no webhook configuration and none of the
// release's namespaced objects remain.
func (s *stack) requireNothingLeft() {
	s.t.Helper()
	ctx := s.t.Context()
	mwcs, err := s.client.AdmissionregistrationV1().MutatingWebhookConfigurations().List(ctx, metav1.ListOptions{})
	if err != nil {
		s.t.Fatal(err)
	}
	for _, m := range mwcs.Items {
		s.t.Errorf("MutatingWebhookConfiguration %s is left after uninstall", m.Name)
	}
	sel := metav1.ListOptions{LabelSelector: "app.kubernetes.io/instance=" + release}
	if deps, err := s.client.AppsV1().Deployments(releaseNS).List(ctx, sel); err != nil || len(deps.Items) != 0 {
		s.t.Errorf("Deployments left: %d (err %v)", len(deps.Items), err)
	}
	if svcs, err := s.client.CoreV1().Services(releaseNS).List(ctx, sel); err != nil || len(svcs.Items) != 0 {
		s.t.Errorf("Services left: %d (err %v)", len(svcs.Items), err)
	}
	if cms, err := s.client.CoreV1().ConfigMaps(releaseNS).List(ctx, sel); err != nil || len(cms.Items) != 0 {
		s.t.Errorf("ConfigMaps left: %d (err %v)", len(cms.Items), err)
	}
	if _, err := s.client.CoreV1().ServiceAccounts(releaseNS).Get(ctx, "planeless", metav1.GetOptions{}); err == nil {
		s.t.Error("the ServiceAccount is left after uninstall")
	}
}

func keys(m map[string][]byte) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}
