package chart_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/planeless/planeless/webhook/certs"
)

// The chart's RBAC is exactly enough: acting as the chart's service account,
// webhook/certs fills the Secret and the caBundle, and the account still
// cannot read any other Secret, not even by listing them.
func TestChartRBACIsEnoughForCertificateManagement(t *testing.T) {
	cluster, resource := startCluster(t)
	create(t, resource, render(t, ""))
	ctx := t.Context()

	asWebhook := cluster.Impersonate(namespace, "planeless")
	certDir := t.TempDir()
	m, err := certs.New(asWebhook, certs.Options{
		Namespace:         namespace,
		SecretName:        "planeless-tls",
		ServiceName:       "planeless",
		WebhookConfigName: "planeless",
		CertDir:           certDir,
	})
	if err != nil {
		t.Fatalf("certificate management as the chart's service account: %v", err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- m.Run(runCtx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("certificate management failed: %v", err)
		}
	})
	select {
	case <-m.Ready():
	case err := <-done:
		done <- err // for the cleanup
		t.Fatalf("certificate management stopped under the chart's RBAC: %v", err)
	case <-time.After(2 * time.Minute):
		t.Fatal("certificates never became ready under the chart's RBAC")
	}

	secret, err := cluster.Client.CoreV1().Secrets(namespace).Get(ctx, "planeless-tls", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := os.ReadFile(filepath.Join(certDir, certs.CertFile))
	if err != nil || !bytes.Equal(cert, secret.Data["tls.crt"]) {
		t.Errorf("the cert dir does not hold the Secret's tls.crt (err %v)", err)
	}
	// Ready means every webhook's caBundle is the Secret's CA, the policy
	// on the webhook's own updates (ValidatingAdmissionPolicy) letting it.
	mwc, err := cluster.Client.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(ctx, "planeless", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range mwc.Webhooks {
		if !bytes.Equal(w.ClientConfig.CABundle, secret.Data["ca.crt"]) {
			t.Errorf("the caBundle of %s is not the Secret's CA: %q", w.Name, w.ClientConfig.CABundle)
		}
	}

	// The impersonation really is confined to the chart's grants.
	other := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "someone-elses", Namespace: namespace}}
	if _, err := cluster.Client.CoreV1().Secrets(namespace).Create(ctx, other, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	client, err := kubernetes.NewForConfig(asWebhook)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.CoreV1().Secrets(namespace).Get(ctx, "someone-elses", metav1.GetOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("the chart's service account may read another Secret (err %v)", err)
	}
	if _, err := client.CoreV1().Secrets(namespace).List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("the chart's service account may list every Secret of its namespace (err %v)", err)
	}
}
