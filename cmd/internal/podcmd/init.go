package podcmd

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/planeless/planeless/iptables"
)

// Init is the init container's command: it installs the iptables
// rules that send the pod's TCP traffic through Envoy.
func Init() *cobra.Command {
	cfg := iptables.DefaultConfig()
	var (
		dryRun  bool
		cleanup bool
		backend string
		copyTo  string
	)
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Install the iptables rules that send the pod's TCP traffic through Envoy",
		Long: `init installs planeless's nat rules in the current network namespace (the
pod's, when it runs as the injected init container). Running it again
replaces the rules; --cleanup removes them; --dry-run prints them.
The injector writes the flags from the pod's annotations.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dryRun && cleanup {
				return fmt.Errorf("--dry-run and --cleanup do not go together")
			}
			if err := cfg.Validate(); err != nil {
				return fmt.Errorf("invalid flags: %w", err)
			}
			if dryRun {
				_, err := io.WriteString(cmd.OutOrStdout(), iptables.Format(iptables.Plan(cfg)))
				return err
			}
			b, err := iptables.ParseBackend(backend)
			if err != nil {
				return err
			}
			if cleanup {
				used, err := iptables.Uninstall(cmd.Context(), b, cfg.IPv6)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "removed planeless iptables rules (%s)\n", used)
				return nil
			}
			// The copy (some megabytes) and the rules (a few short
			// processes) need nothing of each other: they run at once.
			copied := make(chan error, 1)
			go func() {
				if copyTo == "" {
					copied <- nil
					return
				}
				copied <- CopySelf(copyTo)
			}()
			used, err := iptables.Install(cmd.Context(), b, cfg)
			if err := errors.Join(err, <-copied); err != nil {
				return err
			}
			// What is in place now, for kubectl logs: installing again
			// replaces these rules, it never adds to them.
			rules := iptables.Plan(cfg)
			fmt.Fprintf(cmd.ErrOrStderr(), "installed planeless iptables rules (%s, one iptables-restore per family): %s\n%s",
				used, countByFamily(rules), iptables.Format(rules))
			return nil
		},
	}
	cfg.BindFlags(cmd.Flags())
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the rules instead of installing them")
	cmd.Flags().BoolVar(&cleanup, "cleanup", false, "remove planeless's rules and chains instead of installing them")
	cmd.Flags().StringVar(&backend, "backend", string(iptables.BackendAuto), "iptables variant: auto, nft or legacy")
	cmd.Flags().StringVar(&copyTo, "copy-to", "", "also copy this binary to this path (a volume the proxy mounts), for the proxy's preStop `planeless drain`")
	return cmd
}

// countByFamily says how many rules of each family rules hold: "13 IPv4
// and 13 IPv6 rules".
func countByFamily(rules []iptables.Rule) string {
	var parts []string
	for _, f := range []iptables.Family{iptables.IPv4, iptables.IPv6} {
		n := 0
		for _, r := range rules {
			if r.Family == f {
				n++
			}
		}
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, f))
		}
	}
	return strings.Join(parts, " and ") + " rules"
}
