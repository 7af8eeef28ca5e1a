package e2e_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/planeless/planeless/tests/certs"
)

// Replacing the serving certificate while pods are being created loses no
// admission: every pod of the stream is created and injected, and the
// webhook serves each new certificate before the stream ends.
func TestCertificateRotationLosesNoAdmission(t *testing.T) {
	s := startStack(t)
	ctx := t.Context()
	// Each rotation waits for the stream to create `between` more pods, so
	// rotations land in the middle of it.
	const rotations, between, maxPods = 3, 20, 2000
	var progress atomic.Int64

	stop := make(chan struct{})
	type outcome struct {
		created int
		errs    []error
	}
	done := make(chan outcome, 1)
	go func() {
		var o outcome
		for o.created < maxPods {
			select {
			case <-stop:
				done <- o
				return
			default:
			}
			pod := appPod(fmt.Sprintf("stream-%d", o.created))
			stored, err := s.client.CoreV1().Pods(appNS).Create(ctx, pod, metav1.CreateOptions{})
			switch {
			case err != nil:
				o.errs = append(o.errs, fmt.Errorf("pod %s: %w", pod.Name, err))
			case !injected(stored):
				o.errs = append(o.errs, fmt.Errorf("pod %s was stored uninjected", pod.Name))
			}
			o.created++
			progress.Store(int64(o.created))
		}
		done <- o
	}()

	streamed := func(n int) {
		eventually(t, fmt.Sprintf("the stream to create %d pods", n), func() bool { return progress.Load() >= int64(n) })
	}
	for i := range rotations {
		streamed((i + 1) * between)
		certFile := s.ca.Issue(t, s.webhook.certDir, "127.0.0.1").CertFile
		want := leafDER(t, certFile)
		eventually(t, "the webhook to serve the new certificate", func() bool {
			return bytes.Equal(servedLeaf(t, s.webhook.addr, s.ca), want)
		})
	}
	streamed((rotations + 1) * between)
	close(stop)
	o := <-done

	for _, err := range o.errs {
		t.Error(err)
	}
	if o.created >= maxPods {
		t.Errorf("the stream hit its bound of %d pods before the rotations were done", maxPods)
	}
	pods, err := s.client.CoreV1().Pods(appNS).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n := countInjected(pods.Items); n != o.created {
		t.Errorf("%d of %d pods created during the rotations are stored injected", n, o.created)
	}
	t.Logf("%d pods created across %d certificate rotations", o.created, rotations)
}

func countInjected(pods []corev1.Pod) int {
	n := 0
	for i := range pods {
		if injected(&pods[i]) {
			n++
		}
	}
	return n
}

func leafDER(t *testing.T, certFile string) []byte {
	t.Helper()
	data, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	return leafPEM(t, data)
}

func leafPEM(t *testing.T, data []byte) []byte {
	t.Helper()
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatal("not a PEM certificate")
	}
	return block.Bytes
}

// servedLeaf returns the certificate the webhook presents, verified
// against the CA as the API server verifies it.
func servedLeaf(t *testing.T, addr string, ca *certs.CA) []byte {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.PEM)
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12})
	if err != nil {
		return nil
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].Raw
}
