package main

import (
	"bytes"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/planeless/planeless/inject"
)

func init() { subcommands = append(subcommands, newUninjectCmd) }

func newUninjectCmd() *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "uninject -f FILE",
		Short: "Remove what planeless added from Kubernetes manifests",
		Long: `uninject reads manifests (multi-document YAML or a List; FILE "-" is standard
input) and removes from every injected Pod and pod template exactly what
planeless added, as its planeless.dev/status annotation records it: the init
container, the proxy, their volumes and the annotations planeless set. Every
other line stays as it was, so uninjecting the output of inject gives back
its input byte for byte; objects planeless did not inject pass through
unchanged.

An object that carries planeless' containers or volumes without a status
annotation accounting for them is refused, naming the object and the part:
what planeless added to it is unknown. Nothing is written then.`,
		Example: `  planeless uninject -f app-injected.yaml > app.yaml
  kubectl get deploy web -o yaml | planeless uninject -f - | kubectl apply -f -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in, err := openInput(file, cmd.InOrStdin())
			if err != nil {
				return err
			}
			defer in.Close()
			var out bytes.Buffer
			n, err := inject.UninjectManifests(in, &out)
			if err != nil {
				return err
			}
			if n == 0 {
				fmt.Fprintln(cmd.ErrOrStderr(), "warning: no object in the input was injected by planeless; it is written unchanged")
			}
			_, err = out.WriteTo(cmd.OutOrStdout())
			return err
		},
	}
	cmd.Flags().StringVarP(&file, "filename", "f", "", "manifests to uninject, - for standard input")
	_ = cmd.MarkFlagRequired("filename")
	return cmd
}
