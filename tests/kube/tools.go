package kube

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/planeless/planeless/tests/need"
)

const install = "make kube-tools"

var kubeRequire = regexp.MustCompile(`(?m)^\s*(?:require\s+)?k8s\.io/kubernetes v(\S+)`)

// Version returns the Kubernetes release the tools are built from.
func Version(t testing.TB) string {
	t.Helper()
	gomod, err := os.ReadFile(filepath.Join(need.RepoRoot(), "hack", "tools", "kube", "go.mod"))
	if err != nil {
		t.Fatalf("reading the kube tools module: %v", err)
	}
	m := kubeRequire.FindSubmatch(gomod)
	if m == nil {
		t.Fatal("hack/tools/kube/go.mod requires no k8s.io/kubernetes version")
	}
	return string(m[1])
}

// Assets returns the folder holding kube-apiserver, etcd and kubectl:
// $KUBEBUILDER_ASSETS when it holds all three, else .tools/k8s/VERSION.
func Assets(t testing.TB) string {
	t.Helper()
	bins := []string{"kube-apiserver", "etcd", "kubectl"}
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" && holds(dir, bins) {
		return dir
	}
	rel := filepath.Join("k8s", Version(t))
	for _, bin := range bins {
		need.Tool(t, "", filepath.Join(rel, bin), install)
	}
	return filepath.Join(need.RepoRoot(), ".tools", rel)
}

func holds(dir string, bins []string) bool {
	for _, bin := range bins {
		if _, err := os.Stat(filepath.Join(dir, bin)); err != nil {
			return false
		}
	}
	return true
}

// Kubectl returns the kubectl built with the control plane.
func Kubectl(t testing.TB) string {
	t.Helper()
	return filepath.Join(Assets(t), "kubectl")
}

// Helm returns the helm binary ($PLANELESS_HELM, or .tools/bin/helm).
func Helm(t testing.TB) string {
	t.Helper()
	return need.Tool(t, "PLANELESS_HELM", filepath.Join("bin", "helm"), install)
}
