package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/planeless/planeless/check"
)

func init() { subcommands = append(subcommands, newCheckCmd) }

func newCheckCmd() *cobra.Command {
	var kubeconfig, context, namespace, output string
	var timeout, margin time.Duration
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Say whether planeless is healthy on a cluster, and what to restart",
		Long: `check reads the cluster and reports on one screen: planeless' webhook (reachable
from the API server, its certificate valid for how long), the namespaces
labelled for injection, the injected pods whose injection differs from what
the webhook would give them today (with the command that restarts them), and
the pods of labelled namespaces that escaped injection and why.

Today's injection is asked of the webhook itself: each injected pod, without
planeless' parts, is created again as a server-side dry run, which goes
through the real webhook and stores nothing. check exits 0 when all is well
and 1 when something needs doing (or check could not run); -o json prints the
same report for machines.

It needs list on namespaces, pods and mutatingwebhookconfigurations, get on
replicasets, statefulsets, daemonsets and jobs (to name the workload to
restart), create on pods (dry runs only), and get on services, deployments
and secrets of the webhook's namespace (to read a certificate served behind a
Service).`,
		Example: `  planeless check
  kubectl planeless check -n shop
  planeless check -o json | jq '.pods[] | select(.state == "stale") | .fix'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "table" && output != "json" {
				return fmt.Errorf("invalid --output %q: allowed: table, json", output)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			rules := clientcmd.NewDefaultClientConfigLoadingRules()
			rules.ExplicitPath = kubeconfig
			cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: context}).ClientConfig()
			if err != nil {
				return fmt.Errorf("loading the kubeconfig: %w", err)
			}
			cfg.Timeout = timeout
			client, err := kubernetes.NewForConfig(cfg)
			if err != nil {
				return fmt.Errorf("building a Kubernetes client: %w", err)
			}
			state, err := check.Gather(ctx, check.Options{
				Client: client, Namespace: namespace, DialTimeout: timeout, ExpiryMargin: margin,
				Planeless: cmd.Root().Annotations[cobra.CommandDisplayNameAnnotation],
			})
			if err != nil {
				return err
			}
			report := check.Judge(state)
			if output == "json" {
				err = report.WriteJSON(cmd.OutOrStdout())
			} else {
				err = report.WriteTable(cmd.OutOrStdout())
			}
			if err != nil {
				return err
			}
			if !report.OK {
				return errNotWell(len(report.Problems))
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&kubeconfig, "kubeconfig", "", "path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
	fl.StringVar(&context, "context", "", "kubeconfig context to use")
	fl.StringVarP(&namespace, "namespace", "n", "", "report only this namespace's pods (default: every namespace)")
	fl.StringVarP(&output, "output", "o", "table", "table, or json for machines")
	fl.DurationVar(&margin, "cert-expiry-margin", check.DefaultExpiryMargin, "a webhook certificate expiring sooner than this is a problem (renewal is not working)")
	fl.DurationVar(&timeout, "timeout", 10*time.Second, "bound on each request to the API server and on the TLS handshake with the webhook")
	return cmd
}

func errNotWell(problems int) error {
	if problems == 1 {
		return errors.New("check found 1 problem")
	}
	return fmt.Errorf("check found %d problems", problems)
}
