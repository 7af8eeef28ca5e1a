package webhook

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"
	"sigs.k8s.io/controller-runtime/pkg/certwatcher"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	crwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/planeless/planeless/inject"
)

// Path is where the API server sends AdmissionReviews.
const Path = "/inject"

// Options configure Serve.
type Options struct {
	// Listen is the TLS address, e.g. ":9443".
	Listen string
	// CertFile and KeyFile hold the serving certificate; both are watched
	// and reloaded when they change.
	CertFile, KeyFile string
	// MetricsListen is the plain-HTTP address of /metrics, /healthz and
	// /readyz; empty turns it off.
	MetricsListen string

	Injector *inject.Injector
	Log      *slog.Logger
	// Registry receives planeless's own metrics; a new one when nil.
	Registry *prometheus.Registry
}

// Serve runs the webhook until ctx is cancelled.
func Serve(ctx context.Context, o Options) error {
	host, portStr, err := net.SplitHostPort(o.Listen)
	if err != nil {
		return fmt.Errorf("parsing listen address %q: %w", o.Listen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return fmt.Errorf("parsing listen port %q: %w", portStr, err)
	}
	watcher, err := certwatcher.New(o.CertFile, o.KeyFile)
	if err != nil {
		return fmt.Errorf("loading serving certificate: %w", err)
	}

	// planeless's own metrics in a registry of their own, served together
	// with controller-runtime's (webhook, certificate and Go runtime metrics).
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
	handler := &Handler{Injector: o.Injector, Log: o.Log, Metrics: NewMetrics(reg)}

	server := crwebhook.NewServer(crwebhook.Options{
		Host: host,
		Port: port,
		TLSOpts: []func(*tls.Config){func(c *tls.Config) {
			c.MinVersion = tls.VersionTLS12
			c.GetCertificate = watcher.GetCertificate
		}},
	})
	server.Register(Path, admissionHTTP{hook: &admission.Webhook{Handler: handler}})
	health := healthHandler(server)
	server.Register("/healthz", health)
	server.Register("/readyz", health)

	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return watcher.Start(ctx) })
	g.Go(func() error { return server.Start(ctx) })
	if o.MetricsListen != "" {
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(gather, promhttp.HandlerOpts{}))
		mux.Handle("/healthz", health)
		mux.Handle("/readyz", health)
		g.Go(func() error { return serveHTTP(ctx, o.MetricsListen, mux) })
	}
	o.Log.Info("serving", "listen", o.Listen, "path", Path, "metrics", o.MetricsListen)
	return g.Wait()
}

func healthHandler(server crwebhook.Server) http.Handler {
	started := server.StartedChecker()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := started(r); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
}

func serveHTTP(ctx context.Context, addr string, h http.Handler) error {
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 5 * time.Second}
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
