package main

import (
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	crlog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/planeless/planeless/webhook"
)

func init() { subcommands = append(subcommands, newWebhookCmd) }

func newWebhookCmd() *cobra.Command {
	var flags injectorFlags
	opts := webhook.Options{}
	var logFormat string
	cmd := &cobra.Command{
		Use:   "webhook",
		Short: "Serve the mutating admission webhook that injects pods",
		Long: `webhook serves AdmissionReview v1 on ` + webhook.Path + ` over TLS, reloading the
certificate when its files change, with /healthz and /readyz; /metrics (and the
health endpoints) on --metrics-listen over plain HTTP.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log := newLogger(cmd, logFormat)
			crlog.SetLogger(logr.FromSlogHandler(log.Handler()))
			injector, err := flags.injector()
			if err != nil {
				return err
			}
			opts.Injector, opts.Log = injector, log
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return webhook.Serve(ctx, opts)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&opts.Listen, "listen", ":9443", "TLS address of the webhook")
	fs.StringVar(&opts.CertFile, "tls-cert-file", "", "serving certificate (PEM), reloaded when it changes")
	fs.StringVar(&opts.KeyFile, "tls-key-file", "", "serving key (PEM), reloaded when it changes")
	fs.StringVar(&opts.MetricsListen, "metrics-listen", ":9090", "plain-HTTP address of /metrics, /healthz and /readyz; empty turns it off")
	fs.StringVar(&logFormat, "log-format", "json", "log format: json or text")
	_ = cmd.MarkFlagRequired("tls-cert-file")
	_ = cmd.MarkFlagRequired("tls-key-file")
	flags.bind(fs)
	return cmd
}

func newLogger(cmd *cobra.Command, format string) *slog.Logger {
	if format == "text" {
		return slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
	}
	return slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), nil))
}
