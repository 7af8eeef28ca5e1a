// Command planeless is the injector webhook, the init container's iptables
// installer and the offline tools (inject, render) in one binary.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/planeless/planeless/cni"
)

func main() {
	// The container runtime runs the CNI plugin by its file name.
	if filepath.Base(os.Args[0]) == cni.PluginType {
		runPlugin()
		return
	}
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "planeless:", err)
		os.Exit(1)
	}
}
