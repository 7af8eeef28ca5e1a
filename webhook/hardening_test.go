package webhook

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/planeless/planeless/inject"
	"github.com/planeless/planeless/tests/certs"
)

// server is Serve running on free ports for one test.
type server struct {
	addr   string
	pool   *x509.CertPool
	reg    *prometheus.Registry
	cancel context.CancelFunc
	done   chan error
}

func serve(t *testing.T, o Options) *server {
	t.Helper()
	dir := t.TempDir()
	pair := certs.Write(t, dir, "127.0.0.1")
	s := &server{addr: freeAddr(t), pool: x509.NewCertPool(), reg: prometheus.NewRegistry(), done: make(chan error, 1)}
	s.pool.AppendCertsFromPEM(pair.CAPEM)
	o.Listen, o.CertFile, o.KeyFile = s.addr, pair.CertFile, pair.KeyFile
	o.Injector, o.Log, o.Registry = inject.New(), slog.New(slog.NewTextHandler(io.Discard, nil)), s.reg
	ctx, cancel := context.WithCancel(t.Context())
	s.cancel = cancel
	go func() { s.done <- Serve(ctx, o) }()
	t.Cleanup(func() {
		cancel()
		if err := <-s.done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	eventually(t, func() bool {
		conn, err := s.dial(&tls.Config{})
		if err == nil {
			conn.Close()
		}
		return err == nil
	})
	return s
}

func (s *server) dial(c *tls.Config) (*tls.Conn, error) {
	c = c.Clone()
	c.RootCAs = s.pool
	c.ServerName = "127.0.0.1"
	return tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", s.addr, c)
}

// startReview sends a review's headers and the first part of its body,
// and returns the connection and the rest of the body.
func (s *server) startReview(t *testing.T, query string) (*tls.Conn, []byte) {
	t.Helper()
	conn, err := s.dial(&tls.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	body := review(t, nil)
	fmt.Fprintf(conn, "POST %s%s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", Path, query, s.addr, len(body))
	if _, err := conn.Write(body[:10]); err != nil {
		t.Fatal(err)
	}
	return conn, body[10:]
}

func TestTLSOffersOnlyAEADSuites(t *testing.T) {
	s := serve(t, Options{})
	tests := map[string]struct {
		config  *tls.Config
		wantErr bool
		want    uint16
	}{
		"a client preferring TLS 1.3 gets it": {config: &tls.Config{}, want: tls.VersionTLS13},
		"TLS 1.2 with an AEAD suite is taken": {
			config: &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}},
			want:   tls.VersionTLS12,
		},
		"TLS 1.2 with only CBC-SHA1 suites is refused": {
			config:  &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA}},
			wantErr: true,
		},
		"TLS 1.1 is refused": {config: &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}, wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			conn, err := s.dial(tc.config)
			if tc.wantErr {
				if err == nil {
					conn.Close()
					t.Fatal("the handshake succeeded")
				}
				return
			}
			if err != nil {
				t.Fatalf("handshake: %v", err)
			}
			defer conn.Close()
			if got := conn.ConnectionState().Version; got != tc.want {
				t.Errorf("TLS version %x, want %x", got, tc.want)
			}
		})
	}
}

// A client that sends its headers and then trickles (here: stops) its body
// is disconnected once the read timeout passes; no review is made of it.
func TestASlowBodyIsDisconnected(t *testing.T) {
	s := serve(t, Options{ReadTimeout: time.Second})
	conn, _ := s.startReview(t, "")
	_ = conn.SetReadDeadline(time.Now().Add(patience))
	got, err := io.ReadAll(conn)
	var timeout net.Error
	if errors.As(err, &timeout) && timeout.Timeout() {
		t.Fatalf("the server kept the connection open for %s", patience)
	}
	if bytes.Contains(got, []byte("AdmissionReview")) {
		t.Errorf("the server answered a review it never fully received: %s", got)
	}
	for _, result := range []string{resultInjected, resultSkipped, resultDenied, resultError} {
		if n := admissions(t, s.reg, result); n != 0 {
			t.Errorf("admissions{result=%q} = %v, want none", result, n)
		}
	}
}

// A review in flight when the webhook is told to stop (SIGTERM) is
// answered; new connections are refused meanwhile.
func TestAReviewInFlightIsAnsweredAtShutdown(t *testing.T) {
	s := serve(t, Options{})
	conn, rest := s.startReview(t, "")
	// In flight: its handler runs, waiting for the rest of the body.
	eventually(t, func() bool { return gaugeValue(t, s.reg, "planeless_reviews_in_flight") == 1 })
	s.cancel()
	eventually(t, func() bool {
		c, err := s.dial(&tls.Config{})
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	if _, err := conn.Write(rest); err != nil {
		t.Fatalf("finishing the body: %v", err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(patience))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"patchType":"JSONPatch"`)) {
		t.Errorf("status %d: %.300s", resp.StatusCode, body)
	}
}

// Reviews beyond the slots wait for one, until the deadline the API server
// sent: then they are answered 503 and counted busy, costing nothing more.
func TestReviewsBeyondTheSlotsWaitUntilTheirDeadline(t *testing.T) {
	s := serve(t, Options{MaxConcurrentReviews: 1})
	holder, rest := s.startReview(t, "") // holds the one slot: its body is not all there
	eventually(t, func() bool { return gaugeValue(t, s.reg, "planeless_reviews_in_flight") == 1 })

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.pool, ServerName: "127.0.0.1"}}}
	resp, err := client.Post("https://"+s.addr+Path+"?timeout=1s", "application/json", bytes.NewReader(review(t, nil)))
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(msg), "busy") {
		t.Errorf("status %d (%s), want 503 busy", resp.StatusCode, msg)
	}
	if n := admissions(t, s.reg, resultBusy); n != 1 {
		t.Errorf("admissions{result=busy} = %v, want 1", n)
	}

	if _, err := holder.Write(rest); err != nil {
		t.Fatal(err)
	}
	answer, err := http.ReadResponse(bufio.NewReader(holder), nil)
	if err != nil || answer.StatusCode != http.StatusOK {
		t.Fatalf("the review holding the slot: %v %v", answer, err)
	}
	answer.Body.Close()
}

func TestReviewTimeoutFollowsTheAPIServer(t *testing.T) {
	tests := map[string]struct {
		query string
		want  time.Duration
	}{
		"the API server's timeout":     {"?timeout=3s", 3 * time.Second},
		"none sent is the default":     {"", defaultReviewTimeout},
		"garbage is the default":       {"?timeout=soon", defaultReviewTimeout},
		"more than the API allows cut": {"?timeout=1h", maxReviewTimeout},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r, _ := http.NewRequest(http.MethodPost, "https://x"+Path+tc.query, nil)
			if got := reviewTimeout(r); got != tc.want {
				t.Errorf("timeout = %s, want %s", got, tc.want)
			}
		})
	}
}

// patience bounds every wait, so a broken feature fails instead of hanging.
const patience = time.Minute

func admissions(t *testing.T, reg *prometheus.Registry, result string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "planeless_admissions_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == result {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("no planeless_admissions_total{result=%q}", result)
	return 0
}

func gaugeValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == name {
			return f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no %s", name)
	return 0
}

// Told to stop, the webhook first says it is not ready while it still
// answers reviews (the Service drops it meanwhile), then stops listening.
func TestShutdownDelayKeepsServingWhileNotReady(t *testing.T) {
	metrics := freeAddr(t)
	s := serve(t, Options{ShutdownDelay: 10 * time.Second, MetricsListen: metrics})
	s.cancel()
	eventually(t, func() bool {
		resp, err := http.Get("http://" + metrics + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusServiceUnavailable
	})
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.pool, ServerName: "127.0.0.1"}}}
	resp, err := client.Post("https://"+s.addr+Path, "application/json", bytes.NewReader(review(t, nil)))
	if err != nil {
		t.Fatalf("a review during the shutdown delay was not answered: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status %d during the shutdown delay", resp.StatusCode)
	}
	eventually(t, func() bool {
		c, err := s.dial(&tls.Config{})
		if err == nil {
			c.Close()
		}
		return err != nil
	})
}
