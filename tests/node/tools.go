package node

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"

	"github.com/planeless/planeless/tests/need"
)

// Tools are the binaries the node runs, built by `make tools`.
type Tools struct {
	// Kube holds kube-apiserver, kube-controller-manager, kube-scheduler,
	// kube-proxy, kubelet, kubectl and etcd.
	Kube string
	// Containerd holds containerd, ctr and containerd-shim-runc-v2.
	Containerd string
	Runc       string
	CoreDNS    string
	// CNI holds Debian's CNI plugins (bridge, host-local, portmap, loopback).
	CNI   string
	Helm  string
	Envoy string
	// Prometheus is built with Kubernetes service discovery (Debian's is
	// built without it).
	Prometheus string
}

// Missing names one tool that is not there and the command installing it.
type Missing struct {
	What, Install string
}

func (m Missing) Error() string {
	return fmt.Sprintf("%s is missing; install it with `%s`", m.What, m.Install)
}

var (
	kubeVersion  = regexp.MustCompile(`(?m)^\s*(?:require\s+)?k8s\.io/kubernetes v(\S+)`)
	nodeVersions = regexp.MustCompile(`(?m)^(CONTAINERD|RUNC|COREDNS|PROMETHEUS)_VERSION\s*:=\s*(\S+)`)
)

// FindTools finds every tool: from the variables the Makefile exports, else
// in .tools/ at the versions hack/kube.mk and hack/node.mk pin.
func FindTools() (Tools, error) {
	root := need.RepoRoot()
	gomod, err := os.ReadFile(filepath.Join(root, "hack", "tools", "kube", "go.mod"))
	if err != nil {
		return Tools{}, err
	}
	m := kubeVersion.FindSubmatch(gomod)
	if m == nil {
		return Tools{}, fmt.Errorf("hack/tools/kube/go.mod pins no k8s.io/kubernetes")
	}
	mk, err := os.ReadFile(filepath.Join(root, "hack", "node.mk"))
	if err != nil {
		return Tools{}, err
	}
	v := map[string]string{}
	for _, m := range nodeVersions.FindAllStringSubmatch(string(mk), -1) {
		v[m[1]] = m[2]
	}
	tools := filepath.Join(root, ".tools")
	pick := func(env, def string) string {
		if p := os.Getenv(env); p != "" {
			return p
		}
		return def
	}
	t := Tools{
		Kube:       pick("KUBEBUILDER_ASSETS", filepath.Join(tools, "k8s", string(m[1]))),
		Containerd: pick("PLANELESS_CONTAINERD_DIR", filepath.Join(tools, "containerd", v["CONTAINERD"])),
		Runc:       pick("PLANELESS_RUNC", filepath.Join(tools, "runc", v["RUNC"], "runc")),
		CoreDNS:    pick("PLANELESS_COREDNS", filepath.Join(tools, "coredns", v["COREDNS"], "coredns")),
		CNI:        pick("PLANELESS_CNI_DIR", "/usr/lib/cni"),
		Helm:       pick("PLANELESS_HELM", filepath.Join(tools, "bin", "helm")),
		Envoy:      pick("PLANELESS_ENVOY", filepath.Join(tools, "bin", "envoy")),
		Prometheus: pick("PLANELESS_PROMETHEUS_K8S", filepath.Join(tools, "prometheus", v["PROMETHEUS"], "prometheus")),
	}
	checks := []struct{ path, install string }{
		{filepath.Join(t.Kube, "kube-apiserver"), "make kube-tools"},
		{filepath.Join(t.Kube, "kubelet"), "make kube-tools"},
		{filepath.Join(t.Kube, "kube-controller-manager"), "make kube-tools"},
		{filepath.Join(t.Kube, "kube-scheduler"), "make kube-tools"},
		{filepath.Join(t.Kube, "kube-proxy"), "make kube-tools"},
		{filepath.Join(t.Kube, "kubectl"), "make kube-tools"},
		{filepath.Join(t.Kube, "etcd"), "make kube-tools"},
		{t.Helm, "make kube-tools"},
		{filepath.Join(t.Containerd, "containerd"), "make node-tools"},
		{filepath.Join(t.Containerd, "ctr"), "make node-tools"},
		{filepath.Join(t.Containerd, "containerd-shim-runc-v2"), "make node-tools"},
		{t.Runc, "make node-tools"},
		{t.CoreDNS, "make node-tools"},
		{filepath.Join(t.CNI, "bridge"), "make node-deps"},
		{filepath.Join(t.CNI, "host-local"), "make node-deps"},
		{filepath.Join(t.CNI, "loopback"), "make node-deps"},
		{t.Envoy, "make envoy"},
		{t.Prometheus, "make node-tools"},
	}
	for _, c := range checks {
		if _, err := os.Stat(c.path); err != nil {
			return t, Missing{What: c.path, Install: c.install}
		}
	}
	for _, cmd := range []struct{ name, install string }{
		{"mmdebstrap", "make node-deps"}, {"nsenter", "apt-get install util-linux"},
		{"unshare", "apt-get install util-linux"}, {"ip", "apt-get install iproute2"},
		{"iptables", "apt-get install iptables"},
	} {
		if _, err := exec.LookPath(cmd.name); err != nil {
			return t, Missing{What: cmd.name, Install: cmd.install}
		}
	}
	return t, nil
}
