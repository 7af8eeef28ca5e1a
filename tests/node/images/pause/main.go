// Command pause is the sandbox process of every pod on the test node: it
// holds the pod's namespaces, reaps the zombies it inherits as PID 1, and
// exits on SIGINT or SIGTERM, like registry.k8s.io/pause. The node imports
// it under containerd's default sandbox image name, so nothing is pulled.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for s := range sigs {
		if s != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			var ws syscall.WaitStatus
			if pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil); pid <= 0 || err != nil {
				break
			}
		}
	}
}
