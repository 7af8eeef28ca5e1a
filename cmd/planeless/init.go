package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/planeless/planeless/iptables"
)

func init() { subcommands = append(subcommands, newInitCmd) }

// newInitCmd is the init container's command: it installs the iptables
// rules that send the pod's TCP traffic through Envoy.
func newInitCmd() *cobra.Command {
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
			used, err := iptables.Install(cmd.Context(), b, cfg)
			if err != nil {
				return err
			}
			if copyTo != "" {
				if err := copySelf(copyTo); err != nil {
					return err
				}
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

// copySelf copies the running binary to path, executable by anyone, whole
// or not at all.
func copySelf(path string) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding this binary: %w", err)
	}
	in, err := os.Open(self)
	if err != nil {
		return fmt.Errorf("copying this binary: %w", err)
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(path), ".planeless-")
	if err != nil {
		return fmt.Errorf("copying this binary to %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, in); err != nil {
		tmp.Close()
		return fmt.Errorf("copying this binary to %s: %w", path, err)
	}
	if err := tmp.Chmod(0o755); err != nil {
		tmp.Close()
		return fmt.Errorf("copying this binary to %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("copying this binary to %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("copying this binary to %s: %w", path, err)
	}
	return nil
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
