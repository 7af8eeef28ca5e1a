package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/planeless/planeless/tap"
)

func init() { subcommands = append(subcommands, newTapCmd) }

// kubectlPlugin is the name kubectl looks for on PATH to run
// `kubectl planeless ...`.
const kubectlPlugin = "kubectl-planeless"

// displayName is how the binary was called, for usage texts: "kubectl
// planeless" when it runs as a kubectl plugin.
func displayName(argv0 string) string {
	if strings.TrimSuffix(filepath.Base(argv0), ".exe") == kubectlPlugin {
		return "kubectl planeless"
	}
	return "planeless"
}

type tapFlags struct {
	kubeconfig, context, namespace       string
	method, status, path, authority, dir string
	output                               string
	noColor                              bool
	pairWait                             time.Duration
}

func newTapCmd() *cobra.Command {
	var f tapFlags
	cmd := &cobra.Command{
		Use:   "tap (ns/NAME | deploy/NAME | pod/NAME)",
		Short: "Stream the sidecars' access logs of a namespace, deployment or pod, one line per request",
		Long: `tap follows the planeless-proxy access log of every pod of the target through
the Kubernetes pod-log API, merges them, shows each request once with the
client's (outbound) and the server's (inbound) side joined by x-request-id,
and keeps following as pods start and stop.

Filters apply to each side before pairing; every filter takes a
comma-separated list. --status takes codes (404), ranges (500-599) and
classes (5xx); --path is a prefix, or a regular expression after "~";
--authority matches the Host with or without its port.

Pods running when tap starts show only new requests; pods that start later
show all of theirs. It needs get/list/watch on pods, get on pods/log and,
for deploy/NAME, get on deployments.`,
		Example: `  planeless tap ns/shop
  planeless tap -n shop deploy/cart --status 500-599
  planeless tap -n shop pod/cart-7c9d8f6b5-x2x7k --method POST,PUT --path /api/
  planeless tap ns/shop --path '~^/api/v[12]/' -o json | jq 'select(.duration_ms > 100)'
  kubectl planeless tap ns/shop --direction inbound`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runTap(ctx, cmd.OutOrStdout(), cmd.ErrOrStderr(), args[0], f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.kubeconfig, "kubeconfig", "", "path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
	fl.StringVar(&f.context, "context", "", "kubeconfig context to use")
	fl.StringVarP(&f.namespace, "namespace", "n", "", "namespace of the deployment or pod (default: the context's)")
	fl.StringVar(&f.method, "method", "", "HTTP methods, e.g. GET,POST")
	fl.StringVar(&f.status, "status", "", "response codes, ranges and classes, e.g. 404,500-599 or 5xx")
	fl.StringVar(&f.path, "path", "", `path prefix, or "~REGEXP" for a regular expression`)
	fl.StringVar(&f.authority, "authority", "", "authorities (Host), with or without the port")
	fl.StringVar(&f.dir, "direction", "", "inbound (logged by the server) or outbound (logged by the client)")
	fl.StringVarP(&f.output, "output", "o", "table", "table or json (one object per request, for jq)")
	fl.BoolVar(&f.noColor, "no-color", false, "no colours, even on a terminal")
	fl.DurationVar(&f.pairWait, "pair-wait", 2*time.Second, "how long one side of a request waits for the other; 0 disables pairing")
	return cmd
}

func runTap(ctx context.Context, stdout, stderr io.Writer, arg string, f tapFlags) error {
	filter, err := f.filter()
	if err != nil {
		return err
	}
	if f.output != "table" && f.output != "json" {
		return fmt.Errorf("output %q is neither table nor json", f.output)
	}
	// The target's syntax first: its namespace comes from the kubeconfig.
	if _, err := tap.ParseTarget(arg, "default"); err != nil {
		return err
	}

	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = f.kubeconfig
	kc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: f.context})
	namespace := f.namespace
	if namespace == "" {
		if namespace, _, err = kc.Namespace(); err != nil {
			return fmt.Errorf("reading the namespace from the kubeconfig: %w", err)
		}
	}
	target, err := tap.ParseTarget(arg, namespace)
	if err != nil {
		return err
	}
	cfg, err := kc.ClientConfig()
	if err != nil {
		return fmt.Errorf("loading the kubeconfig: %w", err)
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("building a Kubernetes client: %w", err)
	}
	var writer tap.Writer = tap.NewJSONWriter(stdout)
	if f.output == "table" {
		tw := tap.NewTableWriter(stdout, !f.noColor && os.Getenv("NO_COLOR") == "" && isTerminal(stdout))
		if err := tw.Header(); err != nil {
			return err
		}
		writer = tw
	}
	s := &tap.Streamer{
		Client: client,
		Target: target,
		Events: func(e tap.Event) { fmt.Fprintln(stderr, "tap:", e) },
	}
	return tap.Run(ctx, s, tap.Options{Filter: filter, Writer: writer, PairWait: f.pairWait, MaxWaiting: 10000})
}

func (f tapFlags) filter() (tap.Filter, error) {
	var filter tap.Filter
	var err error
	filter.Methods = tap.ParseMethods(f.method)
	filter.Authorities = tap.ParseAuthorities(f.authority)
	if filter.Status, err = tap.ParseStatus(f.status); err != nil {
		return tap.Filter{}, err
	}
	if f.path != "" {
		if filter.Path, err = tap.ParsePath(f.path); err != nil {
			return tap.Filter{}, err
		}
	}
	if filter.Direction, err = tap.ParseDirection(f.dir); err != nil {
		return tap.Filter{}, err
	}
	return filter, nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
