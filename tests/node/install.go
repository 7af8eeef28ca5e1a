package node

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/planeless/planeless/tests/need"
	"github.com/planeless/planeless/tests/node/images"
)

// PlanelessNamespace is where `make cluster` and the tests install the chart.
const PlanelessNamespace = "planeless-system"

// Helm runs helm against the node and returns its combined output.
func (c *Cluster) Helm(ctx context.Context, args ...string) (string, error) {
	return c.tool(ctx, c.Tools.Helm, append([]string{"--kubeconfig", c.Kubeconfig}, args...)...)
}

// Kubectl runs kubectl against the node and returns its combined output.
func (c *Cluster) Kubectl(ctx context.Context, args ...string) (string, error) {
	return c.tool(ctx, filepath.Join(c.Tools.Kube, "kubectl"), append([]string{"--kubeconfig", c.Kubeconfig}, args...)...)
}

// KubectlIn runs kubectl with stdin (e.g. `apply -f -`).
func (c *Cluster) KubectlIn(ctx context.Context, stdin string, args ...string) (string, error) {
	return c.toolIn(ctx, stdin, filepath.Join(c.Tools.Kube, "kubectl"), append([]string{"--kubeconfig", c.Kubeconfig}, args...)...)
}

func (c *Cluster) tool(ctx context.Context, bin string, args ...string) (string, error) {
	return c.toolIn(ctx, "", bin, args...)
}

func (c *Cluster) toolIn(ctx context.Context, stdin, bin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w\n%s", filepath.Base(bin), strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// InstallPlaneless installs the chart (charts/planeless) as a user would,
// with the given extra helm arguments, and waits until the webhook's pods
// are ready.
func (c *Cluster) InstallPlaneless(ctx context.Context, args ...string) error {
	chart := filepath.Join(need.RepoRoot(), "charts", "planeless")
	start := time.Now()
	if _, err := c.Helm(ctx, append([]string{"upgrade", "--install", "planeless", chart,
		"--namespace", PlanelessNamespace, "--create-namespace", "--wait", "--timeout", "3m"}, args...)...); err != nil {
		return err
	}
	c.logf("planeless installed by its Helm chart in %s", time.Since(start).Round(time.Second))
	return nil
}

// LabelledNamespace creates a namespace whose pods planeless injects.
func (c *Cluster) LabelledNamespace(ctx context.Context, name string) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"planeless.dev/inject": "enabled"}}}
	_, err := c.Client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// TestappImage is the test app's image (tests/apps/testapp), on the node.
const TestappImage = images.TestappRef
