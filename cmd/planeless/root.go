package main

import (
	"github.com/spf13/cobra"
)

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "planeless",
		Short:         "Envoy sidecars for Kubernetes, with no control plane",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	for _, add := range subcommands {
		root.AddCommand(add())
	}
	return root
}

// subcommands is filled by each subcommand's file, so adding one touches
// only its own file.
var subcommands []func() *cobra.Command
