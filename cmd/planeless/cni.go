package main

import (
	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/version"
	"github.com/spf13/cobra"

	"github.com/planeless/planeless/cni"
	"github.com/planeless/planeless/templates"
)

func init() { subcommands = append(subcommands, newCNICmd) }

// newCNICmd is the chained CNI plugin. The runtime runs it as
// planeless-cni (the agent's copy of this binary in the CNI bin folder),
// which main recognises; `planeless cni` is the same by hand.
func newCNICmd() *cobra.Command {
	return &cobra.Command{
		Use:   "cni",
		Short: "The chained CNI plugin of CNI mode (run by the container runtime as " + cni.PluginType + ")",
		Long: `cni is the CNI plugin the planeless CNI agent installs on every node: on ADD
of a pod injected in CNI mode it installs the pod's iptables rules in the
pod's network namespace, from the flags of its planeless-validate container;
every other pod passes through. It speaks the CNI protocol (CNI_COMMAND and
the other CNI_* variables, the configuration on standard input).`,
		Args:   cobra.NoArgs,
		Hidden: true,
		Run:    func(*cobra.Command, []string) { runPlugin() },
	}
}

// runPlugin runs the CNI protocol and exits as it says.
func runPlugin() {
	cni.WithSystemPath()
	skel.PluginMainFuncs(cni.New().Funcs(), version.All, "planeless CNI plugin "+templates.Version)
}
