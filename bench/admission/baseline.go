package admission

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strconv"

	"golang.org/x/sync/errgroup"
	"sigs.k8s.io/controller-runtime/pkg/certwatcher"
	crwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/planeless/planeless/webhook"
)

// BaselineMessage is the baseline's answer, so the load generator can
// tell it apart from a webhook that allowed without injecting.
const BaselineMessage = "baseline: allowed without work"

type allowAll struct{}

func (allowAll) Handle(context.Context, admission.Request) admission.Response {
	return admission.Allowed(BaselineMessage)
}

// ServeBaseline serves AdmissionReviews on webhook.Path with the TLS setup
// of webhook.Serve (controller-runtime's server, certwatcher, TLS 1.2+),
// answering each one allowed, until ctx ends.
func ServeBaseline(ctx context.Context, listen, certFile, keyFile string) error {
	host, portStr, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("parsing listen address %q: %w", listen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return fmt.Errorf("parsing listen port %q: %w", portStr, err)
	}
	watcher, err := certwatcher.New(certFile, keyFile)
	if err != nil {
		return fmt.Errorf("loading serving certificate: %w", err)
	}
	server := crwebhook.NewServer(crwebhook.Options{
		Host: host,
		Port: port,
		TLSOpts: []func(*tls.Config){func(c *tls.Config) {
			c.MinVersion = tls.VersionTLS12
			c.GetCertificate = watcher.GetCertificate
		}},
	})
	server.Register(webhook.Path, &admission.Webhook{Handler: allowAll{}})
	server.Register("/healthz", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) }))
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return watcher.Start(ctx) })
	g.Go(func() error { return server.Start(ctx) })
	return g.Wait()
}
