// Command webhookd is the pair of admission servers `make bench` loads:
//
//	webhookd -mode planeless  runs webhook.Serve, planeless's webhook, with
//	                          the built-in injector and its own metrics
//	webhookd -mode baseline   runs the same TLS stack (controller-runtime's
//	                          webhook server with its certwatcher, TLS 1.2+)
//	                          answering every review "allowed" without work
//
// One binary for both, so that the two processes differ only in the work
// they do per review. -cpuprofile FILE writes the server's CPU profile
// until it is stopped with SIGTERM or SIGINT.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/planeless/planeless/bench/admission"
	"github.com/planeless/planeless/inject"
	"github.com/planeless/planeless/webhook"
)

func main() {
	mode := flag.String("mode", "planeless", "planeless or baseline")
	listen := flag.String("listen", "127.0.0.1:9443", "TLS address")
	metrics := flag.String("metrics-listen", "", "plain-HTTP address of /metrics (planeless only)")
	cert := flag.String("tls-cert-file", "", "serving certificate (PEM)")
	key := flag.String("tls-key-file", "", "serving key (PEM)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile here until the server stops")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "webhookd:", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "webhookd:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch *mode {
	case "planeless":
		err = webhook.Serve(ctx, webhook.Options{
			Listen: *listen, MetricsListen: *metrics, CertFile: *cert, KeyFile: *key,
			Injector: inject.New(),
			Log:      slog.New(slog.NewJSONHandler(os.Stderr, nil)),
			Registry: prometheus.NewRegistry(),
		})
	case "baseline":
		err = admission.ServeBaseline(ctx, *listen, *cert, *key)
	default:
		err = fmt.Errorf("unknown mode %q", *mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "webhookd:", err)
		os.Exit(1)
	}
}
