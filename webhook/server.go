package webhook

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"
	"sigs.k8s.io/controller-runtime/pkg/certwatcher"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/planeless/planeless/inject"
)

// Path is where the API server sends AdmissionReviews.
const Path = "/inject"

// PodSecurityPath is where it sends those of namespaces whose Pod Security
// enforces baseline or restricted (the chart's second webhook selects
// them): the pod is injected as on Path, with a warning that the API server
// will refuse it.
const PodSecurityPath = Path + "/pod-security-enforced"

// Defaults of Options.
const (
	// DefaultMaxConcurrentReviews bounds the reviews in progress: with each
	// bounded under 20 MB (inject.MaxPodBytes), eight stay well under the
	// chart's 256 Mi memory limit however many the API server sends.
	DefaultMaxConcurrentReviews = 8
	// DefaultShutdownGrace is how long reviews in flight may finish after
	// the webhook is told to stop, within the pod's 30 s grace period.
	DefaultShutdownGrace = 20 * time.Second
	// DefaultReadTimeout bounds reading one request, headers and body: the
	// API server sends a review at once, a slow body is not a client to wait
	// for.
	DefaultReadTimeout = 10 * time.Second
)

// Server limits that need no option.
const (
	readHeaderTimeout = 5 * time.Second
	// writeTimeout is past the longest review the API server waits for
	// (timeoutSeconds is at most 30).
	writeTimeout   = 35 * time.Second
	idleTimeout    = 90 * time.Second
	maxHeaderBytes = 64 << 10
)

// Options configure Serve.
type Options struct {
	// Listen is the TLS address, e.g. ":9443".
	Listen string
	// CertFile and KeyFile hold the serving certificate; both are watched
	// and reloaded when they change. Unused when GetCertificate is set.
	CertFile, KeyFile string
	// GetCertificate, when set, serves the certificate it returns (kept in
	// memory by webhook/certs) instead of the files.
	GetCertificate func(*tls.ClientHelloInfo) (*tls.Certificate, error)
	// MetricsListen is the plain-HTTP address of /metrics, /healthz and
	// /readyz; empty turns it off.
	MetricsListen string

	// MaxConcurrentReviews bounds the reviews in progress; the others wait
	// for a slot until their deadline. DefaultMaxConcurrentReviews when 0.
	MaxConcurrentReviews int
	// ShutdownDelay is how long the webhook keeps serving once ctx ends,
	// answering /readyz with 503, so that the Service stops sending it
	// reviews before it stops listening (the endpoints of a terminating pod
	// take a moment to go). None when 0.
	ShutdownDelay time.Duration
	// ShutdownGrace bounds how long reviews in flight may finish once it
	// stops listening. DefaultShutdownGrace when 0.
	ShutdownGrace time.Duration
	// ReadTimeout bounds reading a request. DefaultReadTimeout when 0.
	ReadTimeout time.Duration

	Injector *inject.Injector
	Log      *slog.Logger
	// Registry receives planeless's own metrics; a new one when nil.
	Registry *prometheus.Registry
}

// TLSConfig is the webhook's TLS: 1.3 preferred, 1.2 with forward-secret
// AEAD suites only (no CBC, no SHA-1), HTTP/1.1 only (as controller-runtime
// advises since the HTTP/2 rapid-reset attacks; the API server speaks both).
func TLSConfig(getCertificate func(*tls.ClientHelloInfo) (*tls.Certificate, error)) *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
			tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
		NextProtos:     []string{"http/1.1"},
		GetCertificate: getCertificate,
	}
}

// Serve runs the webhook until ctx is cancelled, then lets the reviews in
// flight finish (within ShutdownGrace) and returns. An error of any part
// (the listeners, the certificate watcher) stops all of them and is
// returned.
func Serve(ctx context.Context, o Options) error {
	getCertificate := o.GetCertificate
	var watcher *certwatcher.CertWatcher
	if getCertificate == nil {
		var err error
		if watcher, err = certwatcher.New(o.CertFile, o.KeyFile); err != nil {
			return fmt.Errorf("loading serving certificate: %w", err)
		}
		getCertificate = watcher.GetCertificate
	}
	listener, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", o.Listen, err)
	}

	// planeless's own metrics in a registry of their own, served together
	// with controller-runtime's (certificate and Go runtime metrics).
	reg := o.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	gather := prometheus.Gatherers{reg, crmetrics.Registry}
	// controller-runtime registers the Go and process collectors when its
	// controllers are linked in (certificate management); register them
	// when it did not. Either way they are there once.
	for _, c := range []prometheus.Collector{collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		_ = crmetrics.Registry.Register(c)
	}
	metrics := NewMetrics(reg)
	injector := withBootstrapCache(o.Injector, reg)
	answers := newAnswers(DefaultAnswerCacheBytes)
	registerAnswerMetrics(reg, answers)
	handler := &Handler{Injector: injector, Log: o.Log, Metrics: metrics, answers: answers}
	var serving atomic.Bool
	health := healthHandler(&serving)

	slots := make(chan struct{}, cmp.Or(o.MaxConcurrentReviews, DefaultMaxConcurrentReviews))
	enforced := *handler
	enforced.PodSecurityEnforced = true
	mux := http.NewServeMux()
	mux.Handle(Path, newAdmissionHTTP(handler, slots))
	mux.Handle(PodSecurityPath, newAdmissionHTTP(&enforced, slots))
	mux.Handle("/healthz", health)
	mux.Handle("/readyz", health)
	srv := &http.Server{
		Handler:           mux,
		TLSConfig:         TLSConfig(getCertificate),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       cmp.Or(o.ReadTimeout, DefaultReadTimeout),
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		// TLS handshake failures of scanners and the like are not errors
		// of the webhook.
		ErrorLog: slog.NewLogLogger(o.Log.Handler(), slog.LevelDebug),
	}

	g, ctx := errgroup.WithContext(ctx)
	// stopped ends after the shutdown delay: the metrics and health
	// listener serves until then.
	stopped, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	if watcher != nil {
		g.Go(func() error { return watcher.Start(ctx) })
	}
	g.Go(func() error {
		serving.Store(true)
		if err := srv.ServeTLS(listener, "", ""); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serving the webhook: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		serving.Store(false)
		if o.ShutdownDelay > 0 {
			o.Log.Info("stopping: not ready, still serving", "delay", o.ShutdownDelay)
			time.Sleep(o.ShutdownDelay)
		}
		stop()
		grace, cancel := context.WithTimeout(context.WithoutCancel(ctx), cmp.Or(o.ShutdownGrace, DefaultShutdownGrace))
		defer cancel()
		o.Log.Info("stopping: finishing the reviews in flight", "grace", cmp.Or(o.ShutdownGrace, DefaultShutdownGrace))
		if err := srv.Shutdown(grace); err != nil {
			return fmt.Errorf("stopping the webhook: %w", err)
		}
		return nil
	})
	if o.MetricsListen != "" {
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(gather, promhttp.HandlerOpts{}))
		mux.Handle("/healthz", health)
		mux.Handle("/readyz", health)
		g.Go(func() error { return serveHTTP(stopped, o.MetricsListen, mux) })
	}
	o.Log.Info("serving", "listen", o.Listen, "path", Path, "metrics", o.MetricsListen)
	return g.Wait()
}

func healthHandler(serving *atomic.Bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !serving.Load() {
			http.Error(w, "not serving", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
}

func serveHTTP(ctx context.Context, addr string, h http.Handler) error {
	srv := &http.Server{
		Addr: addr, Handler: h,
		ReadHeaderTimeout: readHeaderTimeout, ReadTimeout: DefaultReadTimeout, WriteTimeout: writeTimeout,
		IdleTimeout: idleTimeout, MaxHeaderBytes: maxHeaderBytes,
	}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving metrics: %w", err)
	}
	return nil
}
