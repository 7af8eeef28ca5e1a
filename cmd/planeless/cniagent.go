package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"

	"github.com/planeless/planeless/cni/agent"
)

func init() { subcommands = append(subcommands, newCNIAgentCmd) }

// newCNIAgentCmd is the node agent of CNI mode (the chart's DaemonSet).
func newCNIAgentCmd() *cobra.Command {
	o := agent.Options{Node: os.Getenv("NODE_NAME")}
	var logFormat string
	cmd := &cobra.Command{
		Use:   "cni-agent",
		Short: "Install the CNI plugin on this node and keep it chained (CNI mode's DaemonSet)",
		Long: `cni-agent copies this binary into the node's CNI bin folder as the plugin
planeless-cni, writes the kubeconfig it reads pods with, and appends the
plugin to the node's CNI configuration list, again whenever the primary CNI
rewrites it; it deletes the pods of its node created before the plugin was
in place (their planeless-validate check fails) for their controllers to
recreate them. On SIGTERM it removes all of it and gives the configuration
file back as it found it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if logFormat != "json" && logFormat != "text" {
				return fmt.Errorf("invalid value %q for --log-format: allowed: json, text", logFormat)
			}
			if o.Node == "" {
				return fmt.Errorf("--node is empty: set it, or NODE_NAME (the chart sets it from spec.nodeName)")
			}
			cfg, err := rest.InClusterConfig()
			if err != nil {
				return fmt.Errorf("loading the in-cluster API configuration: %w", err)
			}
			o.Config = cfg
			o.Log = newLogger(cmd, logFormat)
			klog.SetSlogLogger(o.Log)
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			o.Log.Info("starting", "bin", o.BinDir, "conf", o.ConfDir, "node", o.Node)
			return agent.Run(ctx, o)
		},
	}
	fs := cmd.Flags()
	// The folders are mounted where they are on the node: the paths the
	// agent writes into the configuration are read by the plugin there.
	fs.StringVar(&o.BinDir, "cni-bin-dir", "/opt/cni/bin", "the node's CNI bin folder (mounted at the same path)")
	fs.StringVar(&o.ConfDir, "cni-conf-dir", "/etc/cni/net.d", "the node's CNI conf folder (mounted at the same path)")
	fs.StringVar(&o.ConfFile, "cni-conf-file", "", "the configuration file to chain into (default: the first, the one the runtime uses)")
	fs.StringSliceVar(&o.ExcludeNamespaces, "exclude-namespaces", []string{"kube-system"}, "namespaces whose pods the plugin passes through without reading them")
	fs.StringVar(&o.Node, "node", o.Node, "this node's name (default $NODE_NAME)")
	fs.StringVar(&o.ReadyFile, "ready-file", "", "a file that exists while the plugin is chained, for the readiness probe")
	fs.StringVar(&logFormat, "log-format", "json", "log format: json or text")
	return cmd
}
