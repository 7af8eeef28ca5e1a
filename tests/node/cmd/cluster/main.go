// Command cluster is `make cluster` and `make cluster-down`: a real
// one-node Kubernetes cluster on this machine (package tests/node), with
// planeless installed by its Helm chart and a namespace labelled for
// injection.
//
//	cluster up     start it (or start it anew), print the kubeconfig
//	cluster down   remove everything it made
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/planeless/planeless/tests/node"
)

// The cluster of `make cluster`: index 0 (10.214.0.0/30 on the host); the
// tests lease other indexes, so both can run at once.
const (
	name  = "cluster"
	index = 0
	// Namespace is labelled planeless.dev/inject=enabled.
	namespace = "demo"
)

func main() {
	if len(os.Args) != 2 || (os.Args[1] != "up" && os.Args[1] != "down") {
		fmt.Fprintln(os.Stderr, "usage: cluster up|down")
		os.Exit(2)
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "the cluster needs root (namespaces, mounts, cgroups): run it again with sudo")
		os.Exit(1)
	}
	logf := func(format string, args ...any) { fmt.Printf("==> "+format+"\n", args...) }
	if os.Args[1] == "down" {
		c := &node.Cluster{Name: name, Index: index, Dir: node.Base + "/" + name}
		if err := c.Down(); err != nil {
			fmt.Fprintln(os.Stderr, "cluster-down:", err)
			os.Exit(1)
		}
		logf("cluster removed")
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	c, err := node.Start(ctx, node.Options{Name: name, Index: index, Logf: logf})
	if err == nil {
		err = c.InstallPlaneless(ctx)
	}
	if err == nil {
		err = c.LabelledNamespace(ctx, namespace)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		if c != nil {
			fmt.Fprintln(os.Stderr, c.Logs(20))
			_ = c.Down()
		}
		os.Exit(1)
	}
	logf("cluster ready in %s", time.Since(start).Round(time.Second))
	fmt.Printf(`
A one-node Kubernetes cluster runs on this machine, with planeless installed
(namespace %s) and the namespace %q labelled for injection.

  export KUBECONFIG=%s PATH=%s:$PATH    # kubectl, built into .tools/
  kubectl get pods -A
  kubectl -n %s run web --image=%s -- rest -listen :8080

Images are never pulled: the node has only those of tests/node/images
(the test app %s among them). Remove everything with: make cluster-down
`, node.PlanelessNamespace, namespace, c.Kubeconfig, c.Tools.Kube, namespace, node.TestappImage, node.TestappImage)
}
