package certs_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/planeless/planeless/tests/kube"
	"github.com/planeless/planeless/webhook/certs"
)

// The chart runs two replicas, each managing the same Secret without
// leader election: racing on the empty Secret, they settle on one CA and
// serve the same certificate.
func TestReplicasSettleOnOneCertificate(t *testing.T) {
	cluster := kube.Start(t)
	createNamespace(t, cluster.Client, ns)
	createWebhookConfig(t, cluster.Client, "planeless")

	dirs := []string{t.TempDir(), t.TempDir()}
	var managers []*certs.Manager
	for _, dir := range dirs {
		managers = append(managers, start(t, cluster.Config, certs.Options{
			Namespace: ns, SecretName: "planeless-tls", ServiceName: "planeless",
			WebhookConfigName: "planeless", CertDir: dir,
		}))
	}
	for _, m := range managers {
		waitClosed(t, m.Ready())
	}

	// Whichever replica won, both end with the Secret's pair.
	secret, err := cluster.Client.CoreV1().Secrets(ns).Get(t.Context(), "planeless-tls", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, dir := range dirs {
		waitFor(t, func() ([]byte, bool) {
			b, err := os.ReadFile(filepath.Join(dir, certs.CertFile))
			return b, err == nil && bytes.Equal(b, secret.Data["tls.crt"])
		})
		t.Logf("replica %d serves the Secret's certificate", i)
	}
	bundle := waitFor(t, func() ([]byte, bool) {
		b := caBundle(t, cluster.Client, "planeless")
		return b, bytes.Equal(b, secret.Data["ca.crt"])
	})
	verify(t, bundle, secret.Data["tls.crt"], secret.Data["tls.key"], "planeless.planeless.svc")
}
