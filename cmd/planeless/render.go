package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/planeless/planeless/inject"
)

func init() { subcommands = append(subcommands, newRenderCmd) }

func newRenderCmd() *cobra.Command {
	var flags injectorFlags
	var file, output, namespace string
	cmd := &cobra.Command{
		Use:   "render -f FILE",
		Short: "Print the Envoy bootstrap of the first pod in FILE",
		Long: `render prints the Envoy bootstrap the webhook would give the first Pod or
workload pod template in FILE (- is standard input): as YAML, or with -o json
as the compact JSON the pod's planeless.dev/bootstrap annotation carries. The
pod goes through the same injector as in the webhook: a pod the webhook
leaves alone (host network, opted out) has no bootstrap, and one it refuses
is refused here with the same message.`,
		Example: `  planeless render -f deploy.yaml
  planeless render -f pod.yaml | envoy --mode validate -c /dev/stdin`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "yaml" && output != "json" {
				return fmt.Errorf("invalid value %q for --output: allowed: yaml, json", output)
			}
			injector, err := flags.injector()
			if err != nil {
				return err
			}
			in, err := openInput(file, cmd.InOrStdin())
			if err != nil {
				return err
			}
			defer in.Close()
			obj, err := inject.FirstPodBearing(in)
			if err != nil {
				return err
			}
			config, res, err := injector.Bootstrap(obj, namespace)
			for _, w := range res.Warnings {
				fmt.Fprintln(cmd.ErrOrStderr(), "warning:", w)
			}
			if err != nil {
				return err
			}
			if output == "yaml" {
				if config, err = yaml.JSONToYAML(config); err != nil {
					return fmt.Errorf("converting the bootstrap to YAML: %w", err)
				}
			}
			_, err = cmd.OutOrStdout().Write(config)
			return err
		},
	}
	cmd.Flags().StringVarP(&file, "filename", "f", "", "manifests holding the pod, - for standard input")
	cmd.Flags().StringVarP(&output, "output", "o", "yaml", "yaml, or json (what the pod's annotation carries)")
	cmd.Flags().StringVarP(&namespace, "namespace", "n", "", "namespace of a pod that names none (default: default)")
	_ = cmd.MarkFlagRequired("filename")
	flags.bind(cmd.Flags())
	return cmd
}
