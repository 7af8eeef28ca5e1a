package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/planeless/planeless/inject"
	"github.com/planeless/planeless/tests/certs"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startServe runs Serve on free ports with a certificate in a temp dir.
func startServe(t *testing.T) (addr, metricsAddr string, pair certs.Pair, dir string) {
	t.Helper()
	dir = t.TempDir()
	pair = certs.Write(t, dir, "127.0.0.1")
	addr, metricsAddr = freeAddr(t), freeAddr(t)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, Options{
			Listen: addr, CertFile: pair.CertFile, KeyFile: pair.KeyFile, MetricsListen: metricsAddr,
			Injector: inject.New(), Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	eventually(t, func() bool {
		resp, err := http.Get("http://" + metricsAddr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return addr, metricsAddr, pair, dir
}

func clientTrusting(caPEM []byte) *http.Client {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	return &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, DisableKeepAlives: true},
	}
}

func eventually(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 60s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestServeOverTLS(t *testing.T) {
	addr, metricsAddr, pair, _ := startServe(t)
	client := clientTrusting(pair.CAPEM)

	// The same pod twice: the second review is answered from the answer
	// cache. Then the pod with managedFields, other bytes but the same
	// Spec: answered afresh, its bootstrap from the bootstrap cache.
	for _, mutate := range []func(map[string]any){nil, nil, withManagedFields("01")} {
		resp, err := client.Post("https://"+addr+Path, "application/json", bytes.NewReader(review(t, mutate)))
		if err != nil {
			t.Fatalf("admission over TLS: %v", err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"patchType":"JSONPatch"`) {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
	}

	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := client.Get("https://" + addr + path)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s over TLS: %v %v", path, err, resp)
		} else {
			resp.Body.Close()
		}
	}

	resp, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`planeless_admissions_total{result="injected"} 3`,
		`planeless_admission_duration_seconds_count{result="injected"} 3`,
		"planeless_answer_cache_misses_total 2\n",
		"planeless_answer_cache_hits_total 1\n",
		"planeless_answer_cache_entries 2\n",
		"planeless_bootstrap_cache_misses_total 1\n",
		"planeless_bootstrap_cache_hits_total 1\n",
		"planeless_bootstrap_cache_entries 1\n",
		"go_goroutines",
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// Replacing the certificate files is picked up without a restart; clients
// that trust only the new CA get through, and no request fails meanwhile.
func TestServeReloadsItsCertificate(t *testing.T) {
	addr, _, old, dir := startServe(t)
	oldClient := clientTrusting(old.CAPEM)
	next := certs.Write(t, dir, "127.0.0.1")
	newClient := clientTrusting(next.CAPEM)

	eventually(t, func() bool {
		// Until the reload the server presents the old certificate; every
		// admission must succeed for one client or the other meanwhile.
		for _, c := range []*http.Client{newClient, oldClient} {
			resp, err := c.Post("https://"+addr+Path, "application/json", bytes.NewReader(review(t, nil)))
			if err != nil {
				continue
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("admission failed during rotation: %d", resp.StatusCode)
			}
			return c == newClient
		}
		// Neither got through: a busy machine timing out, or the moment
		// the certificate is swapped. Try again.
		return false
	})
}
