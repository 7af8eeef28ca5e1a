package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/planeless/planeless/cmd/internal/podcmd"
	"github.com/planeless/planeless/cni"
	"github.com/planeless/planeless/iptables"
)

func init() { subcommands = append(subcommands, newValidateCmd) }

// newValidateCmd is the init container of CNI mode.
func newValidateCmd() *cobra.Command {
	cfg := iptables.DefaultConfig()
	var copyTo string
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check, unprivileged, that the node's CNI plugin redirected the pod's traffic (CNI mode's init container)",
		Long: `validate runs in every pod injected in CNI mode, before any other container:
it listens on the proxy's port and dials a connection that the pod's rules
must send there, and fails, saying why, when it does not arrive (the node's
planeless CNI plugin did not install the rules). It takes the flags of
planeless init, which the plugin reads back from the pod.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cfg.Validate(); err != nil {
				return fmt.Errorf("invalid flags: %w", err)
			}
			if err := cni.Validate(cmd.Context(), cfg, cmd.ErrOrStderr()); err != nil {
				return err
			}
			if copyTo != "" {
				return podcmd.CopySelf(copyTo)
			}
			return nil
		},
	}
	cni.BindValidateFlags(cmd.Flags(), &cfg, &copyTo)
	return cmd
}
