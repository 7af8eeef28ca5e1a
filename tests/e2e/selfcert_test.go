package e2e_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"os"
	"strings"
	"sync"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// With the chart's defaults, `planeless webhook --cert-mode=self`, acting
// as the chart's service account with only the chart's RBAC, fills the
// chart's Secret, serves a certificate valid for its Service under that CA,
// and puts the CA into the webhook configuration's caBundle.
func TestWebhookBinaryManagesItsOwnCertificateUnderTheChartsRBAC(t *testing.T) {
	s := bareStack(t)
	ctx := t.Context()
	s.helm("install", release, chartDir(), "--namespace", releaseNS, "--create-namespace")

	kubeconfig := s.cluster.KubeconfigAs(t, releaseNS, "planeless")
	requireConfined(t, kubeconfig)
	// Two replicas, as the chart runs them, racing on the empty Secret.
	var replicas []*webhookProcess
	for range 2 {
		w := newWebhookProcess(t, s.bin)
		w.env = append(w.env, "KUBECONFIG="+kubeconfig, "POD_NAMESPACE="+releaseNS)
		// The certificate flags the chart's Deployment passes.
		w.args = []string{
			"--cert-mode=self", "--cert-dir=" + w.certDir,
			"--secret-name=planeless-tls", "--service-name=planeless", "--webhook-config-name=planeless",
		}
		replicas = append(replicas, w)
	}
	var wg sync.WaitGroup
	for _, w := range replicas {
		wg.Go(w.start)
	}
	wg.Wait()
	w := replicas[0]

	secret, err := s.client.CoreV1().Secrets(releaseNS).Get(ctx, "planeless-tls", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ca := secret.Data["ca.crt"]
	if len(ca) == 0 {
		t.Fatalf("the webhook left the Secret without a CA (keys %v)", keys(secret.Data))
	}
	eventually(t, "the caBundle to hold the Secret's CA", func() bool {
		mwc, err := s.client.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(ctx, "planeless", metav1.GetOptions{})
		return err == nil && bytes.Equal(mwc.Webhooks[0].ClientConfig.CABundle, ca)
	})

	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		t.Fatal("ca.crt holds no certificate")
	}
	// As the API server reaches a webhook behind a Service.
	conn, err := tls.Dial("tcp", w.addr, &tls.Config{RootCAs: pool, ServerName: "planeless.planeless.svc", MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatalf("the served certificate does not verify for planeless.planeless.svc under the caBundle: %v", err)
	}
	served := conn.ConnectionState().PeerCertificates[0].Raw
	conn.Close()
	if leaf := leafPEM(t, secret.Data["tls.crt"]); !bytes.Equal(served, leaf) {
		t.Error("the webhook serves a certificate other than the Secret's tls.crt")
	}
	// The race of a fresh install heals by itself: nothing an operator
	// should see as an error.
	for i, r := range replicas {
		log, err := os.ReadFile(r.logPath)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(log), "\n") {
			if strings.Contains(line, "level=ERROR") {
				t.Errorf("replica %d logged an error: %s", i, line)
			}
		}
	}
}

// requireConfined checks that the kubeconfig really acts as the chart's
// service account: it may not list the Secrets of its namespace.
func requireConfined(t *testing.T, kubeconfig string) {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CoreV1().Secrets(releaseNS).List(t.Context(), metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("the webhook's kubeconfig is not confined to the chart's RBAC (listing Secrets: %v)", err)
	}
}
