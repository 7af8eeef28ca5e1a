package main

import (
	"os"

	"github.com/spf13/cobra"
)

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "planeless",
		Short:         "Envoy sidecars for Kubernetes, with no control plane",
		SilenceUsage:  true,
		SilenceErrors: true,
		// "kubectl planeless" in usage texts when run as a kubectl plugin.
		Annotations: map[string]string{cobra.CommandDisplayNameAnnotation: displayName(os.Args[0])},
	}
	for _, add := range subcommands {
		root.AddCommand(add())
	}
	return root
}

// subcommands is filled by each subcommand's file, so adding one touches
// only its own file.
var subcommands []func() *cobra.Command
