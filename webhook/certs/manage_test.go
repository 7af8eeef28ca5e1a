package certs_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	_ "github.com/planeless/planeless/tests/golden"
	"github.com/planeless/planeless/tests/kube"
	"github.com/planeless/planeless/webhook/certs"
)

const ns = "planeless"

func TestManageIssuesCertificateAndFillsCABundle(t *testing.T) {
	cluster := kube.Start(t)
	ctx := t.Context()
	createNamespace(t, cluster.Client, ns)
	createWebhookConfig(t, cluster.Client, "planeless")

	opts := certs.Options{
		Namespace:         ns,
		SecretName:        "planeless-tls",
		ServiceName:       "planeless",
		WebhookConfigName: "planeless",
		CertDir:           t.TempDir(),
	}
	m := start(t, cluster.Config, opts)
	waitClosed(t, m.Ready())

	secret, err := cluster.Client.CoreV1().Secrets(ns).Get(ctx, "planeless-tls", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the Secret was not created: %v", err)
	}
	ca := secret.Data["ca.crt"]
	if len(ca) == 0 {
		t.Fatal("the Secret holds no ca.crt")
	}
	// Ready means the caBundle is the Secret's CA already.
	bundle := caBundle(t, cluster.Client, "planeless")
	if !bytes.Equal(bundle, ca) {
		t.Errorf("the caBundle is not the Secret's CA:\ncaBundle: %q\nca.crt:   %q", bundle, ca)
	}
	cert := readFile(t, filepath.Join(opts.CertDir, certs.CertFile))
	key := readFile(t, filepath.Join(opts.CertDir, certs.KeyFile))
	if !bytes.Equal(cert, secret.Data["tls.crt"]) || !bytes.Equal(key, secret.Data["tls.key"]) {
		t.Error("the files in the cert dir differ from the Secret's tls.crt/tls.key")
	}
	verify(t, bundle, cert, key, "planeless.planeless.svc")
	served, err := m.GetCertificate(nil)
	if err != nil || !bytes.Equal(served.Certificate[0], leafDER(t, cert)) {
		t.Errorf("the certificate served from memory is not the Secret's (%v)", err)
	}
}

func TestManageRewritesFilesWhenTheServingCertificateIsReissued(t *testing.T) {
	cluster := kube.Start(t)
	ctx := t.Context()
	createNamespace(t, cluster.Client, ns)
	createWebhookConfig(t, cluster.Client, "planeless")
	opts := certs.Options{
		Namespace: ns, SecretName: "planeless-tls", ServiceName: "planeless",
		WebhookConfigName: "planeless", CertDir: t.TempDir(),
	}
	m := start(t, cluster.Config, opts)
	waitClosed(t, m.Ready())
	certPath := filepath.Join(opts.CertDir, certs.CertFile)
	first := readFile(t, certPath)

	// Dropping the serving certificate from the Secret makes the rotator
	// issue a new one from the same CA.
	secret, err := cluster.Client.CoreV1().Secrets(ns).Get(ctx, "planeless-tls", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	delete(secret.Data, "tls.crt")
	delete(secret.Data, "tls.key")
	if _, err := cluster.Client.CoreV1().Secrets(ns).Update(ctx, secret, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("updating the Secret: %v", err)
	}

	second := waitFor(t, func() ([]byte, bool) {
		b, err := os.ReadFile(certPath)
		return b, err == nil && !bytes.Equal(b, first)
	})
	key := waitFor(t, func() ([]byte, bool) {
		k := readFile(t, filepath.Join(opts.CertDir, certs.KeyFile))
		_, err := tls.X509KeyPair(second, k)
		return k, err == nil
	})
	verify(t, caBundle(t, cluster.Client, "planeless"), second, key, "planeless.planeless.svc")
}

func TestManageRejectsIncompleteOptions(t *testing.T) {
	full := certs.Options{Namespace: "n", SecretName: "s", ServiceName: "svc", WebhookConfigName: "w", CertDir: t.TempDir()}
	tests := map[string]struct {
		edit func(*certs.Options)
		want string
	}{
		"a missing namespace is named":   {func(o *certs.Options) { o.Namespace = "" }, "certificate options: namespace is required"},
		"a missing cert dir is named":    {func(o *certs.Options) { o.CertDir = "" }, "certificate options: cert dir is required"},
		"a missing secret name is named": {func(o *certs.Options) { o.SecretName = "" }, "certificate options: secret name is required"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			o := full
			tc.edit(&o)
			_, err := certs.New(nil, o)
			if err == nil || err.Error() != tc.want {
				t.Errorf("got error %v, want %q", err, tc.want)
			}
		})
	}
}

// start runs certificate management for the test; it must run until the
// test ends.
func start(t *testing.T, cfg *rest.Config, opts certs.Options) *certs.Manager {
	t.Helper()
	m, err := certs.New(cfg, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("certificate management failed: %v", err)
		}
	})
	return m
}

func leafDER(t *testing.T, certPEM []byte) []byte {
	t.Helper()
	block, _ := pem.Decode(certPEM)
	if block == nil {
		t.Fatal("not PEM")
	}
	return block.Bytes
}

func createNamespace(t *testing.T, c kubernetes.Interface, name string) {
	t.Helper()
	_, err := c.CoreV1().Namespaces().Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating namespace %s: %v", name, err)
	}
}

func createWebhookConfig(t *testing.T, c kubernetes.Interface, name string) {
	t.Helper()
	none := admissionregistrationv1.SideEffectClassNone
	mwc := &admissionregistrationv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Webhooks: []admissionregistrationv1.MutatingWebhook{{
			Name: "inject.planeless.dev",
			ClientConfig: admissionregistrationv1.WebhookClientConfig{
				Service: &admissionregistrationv1.ServiceReference{Namespace: ns, Name: "planeless", Path: ptr.To("/inject")},
			},
			SideEffects:             &none,
			AdmissionReviewVersions: []string{"v1"},
			NamespaceSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"planeless.dev/inject": "enabled"}},
		}},
	}
	if _, err := c.AdmissionregistrationV1().MutatingWebhookConfigurations().Create(t.Context(), mwc, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating the MutatingWebhookConfiguration: %v", err)
	}
}

func caBundle(t *testing.T, c kubernetes.Interface, name string) []byte {
	t.Helper()
	mwc, err := c.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("reading the MutatingWebhookConfiguration: %v", err)
	}
	return mwc.Webhooks[0].ClientConfig.CABundle
}

// verify checks that the pair is a key pair and that the certificate is
// valid for the DNS name under the CA bundle, as the API server checks it.
func verify(t *testing.T, bundle, cert, key []byte, dnsName string) {
	t.Helper()
	if _, err := tls.X509KeyPair(cert, key); err != nil {
		t.Fatalf("tls.crt and tls.key are not a pair: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(bundle) {
		t.Fatal("the caBundle holds no certificate")
	}
	block, _ := pem.Decode(cert)
	if block == nil {
		t.Fatal("tls.crt is not PEM")
	}
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: dnsName, Roots: pool}); err != nil {
		t.Errorf("the serving certificate does not verify for %s under the caBundle: %v", dnsName, err)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// patience bounds every wait so a broken feature fails instead of hanging.
const patience = 2 * time.Minute

func waitClosed(t *testing.T, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(patience):
		t.Fatal("certificates never became ready")
	}
}

func waitFor[T any](t *testing.T, get func() (T, bool)) T {
	t.Helper()
	var v T
	err := wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, patience, true, func(context.Context) (bool, error) {
		var ok bool
		v, ok = get()
		return ok, nil
	})
	if err != nil {
		t.Fatalf("condition never held: %v", err)
	}
	return v
}
