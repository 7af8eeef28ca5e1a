// Command planeless-pod is what runs inside an injected pod: `init` (the
// init container), `wait` and `drain` (the proxy's hooks, through the copy
// init leaves in the pod). It is package podcmd alone, without the
// webhook's dependencies, so it starts in a few milliseconds.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/planeless/planeless/cmd/internal/podcmd"
)

func main() {
	root := &cobra.Command{
		Use:           "planeless-pod",
		Short:         "planeless's commands that run inside an injected pod",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(podcmd.Init(), podcmd.Wait(), podcmd.Drain())
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "planeless-pod:", err)
		os.Exit(1)
	}
}
