package main

import (
	"bytes"
	"fmt"

	"github.com/spf13/cobra"
)

func init() { subcommands = append(subcommands, newInjectCmd) }

func newInjectCmd() *cobra.Command {
	var flags injectorFlags
	var file, namespace string
	cmd := &cobra.Command{
		Use:   "inject -f FILE",
		Short: "Inject the pods of Kubernetes manifests, as the webhook would",
		Long: `inject reads manifests (multi-document YAML or a List; FILE "-" is standard
input), adds planeless to every Pod and every workload's pod template
(Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob) and writes
them to standard output; other objects pass through unchanged. The result is
what the webhook would store. Injecting twice changes nothing. Objects
without a namespace are injected as in --namespace (default: default).`,
		Example: `  planeless inject -f app.yaml > app-injected.yaml
  kubectl get deploy web -o yaml | planeless inject -f - | kubectl apply -f -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			injector, err := flags.injector()
			if err != nil {
				return err
			}
			in, err := openInput(file, cmd.InOrStdin())
			if err != nil {
				return err
			}
			defer in.Close()
			var out bytes.Buffer
			warn := func(w string) { fmt.Fprintln(cmd.ErrOrStderr(), "warning:", w) }
			if err := injector.Manifests(in, &out, namespace, warn); err != nil {
				return err
			}
			_, err = out.WriteTo(cmd.OutOrStdout())
			return err
		},
	}
	cmd.Flags().StringVarP(&file, "filename", "f", "", "manifests to inject, - for standard input")
	cmd.Flags().StringVarP(&namespace, "namespace", "n", "", "namespace of the objects that name none (default: default)")
	_ = cmd.MarkFlagRequired("filename")
	flags.bind(cmd.Flags())
	return cmd
}
