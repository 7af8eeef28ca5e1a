// Command planeless is the injector webhook, the init container's iptables
// installer and the offline tools (inject, render) in one binary.
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "planeless:", err)
		os.Exit(1)
	}
}
