package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/planeless/planeless/templates"
)

func init() { subcommands = append(subcommands, newVersionCmd) }

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print planeless's version and the Envoy version it renders for",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "planeless %s (envoy %s)\n", templates.Version, templates.EnvoyVersion)
			return err
		},
	}
}
