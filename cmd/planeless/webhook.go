package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"
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
		Long: `webhook serves AdmissionReview v1 on ` + webhook.Path + ` over TLS, with /healthz and
/readyz; /metrics (and the health endpoints) on --metrics-listen over plain
HTTP. Every flag is checked before anything starts: a bad value stops the
webhook with a message naming the flag, the value and what is allowed. On
SIGTERM it stops accepting connections and lets the reviews in flight finish.

With --cert-mode=self it also issues and rotates its own serving certificate
(kept in a Secret, served from memory, written to --cert-dir when that is
writable) and keeps the caBundle of its MutatingWebhookConfiguration current;
with --cert-mode=files (the default) the certificate comes from
--tls-cert-file and --tls-key-file, reloaded when they change.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkWebhookFlags(&opts, certOpts, logFormat, certMode); err != nil {
				return err
			}
			injector, err := flags.injector()
			if err != nil {
				return err
			}
			log := newLogger(cmd, logFormat)
			crlog.SetLogger(certs.Quiet(logr.FromSlogHandler(log.Handler())))
			klog.SetSlogLogger(log)
			opts.Injector, opts.Log = injector, log
			setMemoryLimit(log)
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if certMode == certModeFiles {
				return webhook.Serve(ctx, opts)
			}
			return serveWithOwnCertificate(ctx, log, opts, certOpts)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&opts.Listen, "listen", ":9443", "TLS address of the webhook")
	fs.StringVar(&opts.CertFile, "tls-cert-file", "", "serving certificate (PEM), reloaded when it changes")
	fs.StringVar(&opts.KeyFile, "tls-key-file", "", "serving key (PEM), reloaded when it changes")
	fs.StringVar(&opts.MetricsListen, "metrics-listen", ":9090", "plain-HTTP address of /metrics, /healthz and /readyz; empty turns it off")
	fs.IntVar(&opts.MaxConcurrentReviews, "max-concurrent-reviews", webhook.DefaultMaxConcurrentReviews, "reviews handled at once; more wait for a slot until their deadline")
	fs.DurationVar(&opts.ShutdownDelay, "shutdown-delay", 0, "how long the webhook keeps serving after SIGTERM, not ready, while its endpoints go")
	fs.DurationVar(&opts.ShutdownGrace, "shutdown-grace", webhook.DefaultShutdownGrace, "how long reviews in flight may finish once the webhook stops listening")
	fs.StringVar(&logFormat, "log-format", "json", "log format: json or text")
	fs.StringVar(&certMode, "cert-mode", certModeFiles, "where the serving certificate comes from: files or self")
	fs.StringVar(&certOpts.CertDir, "cert-dir", "", "with --cert-mode=self: folder of tls.crt and tls.key (the Secret mounted, or written by the webhook when writable)")
	fs.StringVar(&certOpts.SecretName, "secret-name", "", "with --cert-mode=self: Secret holding the CA and certificate")
	fs.StringVar(&certOpts.ServiceName, "service-name", "", "with --cert-mode=self: Service the API server calls")
	fs.StringVar(&certOpts.WebhookConfigName, "webhook-config-name", "", "with --cert-mode=self: MutatingWebhookConfiguration whose caBundle is kept current")
	fs.StringVar(&certOpts.Namespace, "namespace", certOpts.Namespace, "with --cert-mode=self: the webhook's namespace (default $POD_NAMESPACE)")
	flags.bind(fs)
	return cmd
}

// checkWebhookFlags checks the flags that are not injection defaults.
func checkWebhookFlags(opts *webhook.Options, certOpts certs.Options, logFormat, certMode string) error {
	for _, a := range []struct{ flag, value string }{{"listen", opts.Listen}, {"metrics-listen", opts.MetricsListen}} {
		if a.value == "" && a.flag == "metrics-listen" {
			continue
		}
		if _, _, err := net.SplitHostPort(a.value); err != nil {
			return fmt.Errorf("invalid value %q for --%s: allowed: [HOST]:PORT", a.value, a.flag)
		}
	}
	if logFormat != "json" && logFormat != "text" {
		return fmt.Errorf("invalid value %q for --log-format: allowed: json, text", logFormat)
	}
	if opts.MaxConcurrentReviews < 1 {
		return fmt.Errorf("invalid value %d for --max-concurrent-reviews: allowed: an integer of 1 or more", opts.MaxConcurrentReviews)
	}
	for _, d := range []struct {
		flag  string
		value time.Duration
	}{{"shutdown-delay", opts.ShutdownDelay}, {"shutdown-grace", opts.ShutdownGrace}} {
		if d.value < 0 || d.value > 5*time.Minute {
			return fmt.Errorf("invalid value %s for --%s: allowed: a duration from 0s to 5m", d.value, d.flag)
		}
	}
	switch certMode {
	case certModeFiles:
		if opts.CertFile == "" || opts.KeyFile == "" {
			return fmt.Errorf("--cert-mode=files needs --tls-cert-file and --tls-key-file")
		}
	case certModeSelf:
		for _, f := range []struct{ flag, value string }{
			{"cert-dir", certOpts.CertDir}, {"secret-name", certOpts.SecretName}, {"service-name", certOpts.ServiceName},
			{"webhook-config-name", certOpts.WebhookConfigName}, {"namespace", certOpts.Namespace},
		} {
			if f.value == "" {
				return fmt.Errorf("--cert-mode=self needs --%s", f.flag)
			}
		}
	default:
		return fmt.Errorf("invalid value %q for --cert-mode: allowed: %s, %s", certMode, certModeFiles, certModeSelf)
	}
	return nil
}

// serveWithOwnCertificate runs certificate management and the webhook in
// one group: the webhook starts serving once the first certificate is in
// memory and the caBundle current, and either one failing stops both and
// is returned.
func serveWithOwnCertificate(ctx context.Context, log *slog.Logger, opts webhook.Options, certOpts certs.Options) error {
	cfg, err := config.GetConfig()
	if err != nil {
		return fmt.Errorf("loading the Kubernetes client configuration: %w", err)
	}
	manager, err := certs.New(cfg, certOpts)
	if err != nil {
		return err
	}
	opts.GetCertificate = manager.GetCertificate
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return manager.Run(ctx) })
	g.Go(func() error {
		log.Info("waiting for the serving certificate", "secret", certOpts.SecretName, "dir", certOpts.CertDir)
		select {
		case <-manager.Ready():
		case <-ctx.Done():
			return nil
		}
		return webhook.Serve(ctx, opts)
	})
	return g.Wait()
}

// setMemoryLimit keeps the Go heap under 90% of the container's memory
// limit (PLANELESS_MEMORY_LIMIT, bytes, from the downward API), unless
// GOMEMLIMIT says otherwise: the garbage collector then works harder
// before the kernel kills the process.
func setMemoryLimit(log *slog.Logger) {
	limit, err := strconv.ParseInt(os.Getenv("PLANELESS_MEMORY_LIMIT"), 10, 64)
	if err != nil || limit <= 0 || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(limit / 10 * 9)
	log.Info("memory limit", "container", limit, "go", limit/10*9)
}

func newLogger(cmd *cobra.Command, format string) *slog.Logger {
	if format == "text" {
		return slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
	}
	return slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), nil))
}
