package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client/config"
	crlog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/planeless/planeless/webhook"
	"github.com/planeless/planeless/webhook/certs"
)

func init() { subcommands = append(subcommands, newWebhookCmd) }

// Certificate modes of the webhook.
const (
	certModeFiles = "files"
	certModeSelf  = "self"
)

func newWebhookCmd() *cobra.Command {
	var flags injectorFlags
	opts := webhook.Options{}
	certOpts := certs.Options{Namespace: os.Getenv("POD_NAMESPACE")}
	var logFormat, certMode string
	cmd := &cobra.Command{
		Use:   "webhook",
		Short: "Serve the mutating admission webhook that injects pods",
		Long: `webhook serves AdmissionReview v1 on ` + webhook.Path + ` over TLS, reloading the
certificate when its files change, with /healthz and /readyz; /metrics (and the
health endpoints) on --metrics-listen over plain HTTP.

With --cert-mode=self it also issues and rotates its own serving certificate
(kept in a Secret, written to --cert-dir) and keeps the caBundle of its
MutatingWebhookConfiguration current; with --cert-mode=files (the default)
the certificate comes from --tls-cert-file and --tls-key-file.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log := newLogger(cmd, logFormat)
			crlog.SetLogger(logr.FromSlogHandler(log.Handler()))
			klog.SetSlogLogger(log)
			injector, err := flags.injector()
			if err != nil {
				return err
			}
			opts.Injector, opts.Log = injector, log
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()

			switch certMode {
			case certModeFiles:
				if opts.CertFile == "" || opts.KeyFile == "" {
					return fmt.Errorf("--cert-mode=files needs --tls-cert-file and --tls-key-file")
				}
			case certModeSelf:
				if err := manageCertificate(ctx, log, &opts, certOpts); err != nil {
					return err
				}
			default:
				return fmt.Errorf("invalid --cert-mode %q: allowed: %s, %s", certMode, certModeFiles, certModeSelf)
			}
			return webhook.Serve(ctx, opts)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&opts.Listen, "listen", ":9443", "TLS address of the webhook")
	fs.StringVar(&opts.CertFile, "tls-cert-file", "", "serving certificate (PEM), reloaded when it changes")
	fs.StringVar(&opts.KeyFile, "tls-key-file", "", "serving key (PEM), reloaded when it changes")
	fs.StringVar(&opts.MetricsListen, "metrics-listen", ":9090", "plain-HTTP address of /metrics, /healthz and /readyz; empty turns it off")
	fs.StringVar(&logFormat, "log-format", "json", "log format: json or text")
	fs.StringVar(&certMode, "cert-mode", certModeFiles, "where the serving certificate comes from: files or self")
	fs.StringVar(&certOpts.CertDir, "cert-dir", "", "with --cert-mode=self: folder the managed certificate is written to")
	fs.StringVar(&certOpts.SecretName, "secret-name", "", "with --cert-mode=self: Secret holding the CA and certificate")
	fs.StringVar(&certOpts.ServiceName, "service-name", "", "with --cert-mode=self: Service the API server calls")
	fs.StringVar(&certOpts.WebhookConfigName, "webhook-config-name", "", "with --cert-mode=self: MutatingWebhookConfiguration whose caBundle is kept current")
	fs.StringVar(&certOpts.Namespace, "namespace", certOpts.Namespace, "with --cert-mode=self: the webhook's namespace (default $POD_NAMESPACE)")
	flags.bind(fs)
	return cmd
}

// manageCertificate starts certificate management and waits until the
// first certificate is on disk; management failing later stops the webhook.
func manageCertificate(ctx context.Context, log *slog.Logger, opts *webhook.Options, certOpts certs.Options) error {
	cfg, err := config.GetConfig()
	if err != nil {
		return fmt.Errorf("loading the Kubernetes client configuration: %w", err)
	}
	failed := make(chan error, 1)
	certOpts.Failed = func(err error) { failed <- err }
	ready, err := certs.Manage(ctx, cfg, certOpts)
	if err != nil {
		return err
	}
	log.Info("waiting for the serving certificate", "secret", certOpts.SecretName, "dir", certOpts.CertDir)
	select {
	case <-ready:
	case err := <-failed:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
	opts.CertFile = filepath.Join(certOpts.CertDir, certs.CertFile)
	opts.KeyFile = filepath.Join(certOpts.CertDir, certs.KeyFile)
	go func() {
		if err := <-failed; err != nil {
			log.Error("certificate management failed; exiting so the webhook restarts", "error", err)
			os.Exit(1)
		}
	}()
	return nil
}

func newLogger(cmd *cobra.Command, format string) *slog.Logger {
	if format == "text" {
		return slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
	}
	return slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), nil))
}
