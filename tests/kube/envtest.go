package kube

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

var setLogger sync.Once

// Cluster is a running control plane: a real kube-apiserver and etcd.
type Cluster struct {
	// Config authenticates as an admin (system:masters).
	Config *rest.Config
	// Kubeconfig is a file holding Config, for kubectl and helm.
	Kubeconfig string
	// Client is a clientset using Config.
	Client kubernetes.Interface

	env *envtest.Environment
}

// Start runs a fresh control plane for the test and stops it when the test
// ends.
func Start(t testing.TB) *Cluster {
	t.Helper()
	// controller-runtime (envtest, managers under test) logs through this;
	// errors still print, chatter does not.
	setLogger.Do(func() { ctrllog.SetLogger(klog.NewKlogr().V(1)) })
	env := &envtest.Environment{BinaryAssetsDirectory: Assets(t)}
	cfg, err := env.Start()
	if err != nil {
		t.Fatalf("starting kube-apiserver and etcd: %v", err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("stopping the control plane: %v", err)
		}
	})
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, env.KubeConfig, 0o600); err != nil {
		t.Fatalf("writing kubeconfig: %v", err)
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatalf("building a clientset: %v", err)
	}
	return &Cluster{Config: cfg, Kubeconfig: kubeconfig, Client: client, env: env}
}

// Impersonate returns a copy of the cluster's config acting as the given
// service account, so a test proves what that account's RBAC allows.
func (c *Cluster) Impersonate(namespace, serviceAccount string) *rest.Config {
	cfg := rest.CopyConfig(c.Config)
	cfg.Impersonate = rest.ImpersonationConfig{
		UserName: "system:serviceaccount:" + namespace + ":" + serviceAccount,
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated"},
	}
	return cfg
}

// KubeconfigAs writes a kubeconfig that acts as the given service account
// (the admin's credentials, impersonating), for a process under test.
func (c *Cluster) KubeconfigAs(t testing.TB, namespace, serviceAccount string) string {
	t.Helper()
	cfg := c.Impersonate(namespace, serviceAccount)
	kc := clientcmdapi.NewConfig()
	kc.Clusters["envtest"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["sa"] = &clientcmdapi.AuthInfo{
		ClientCertificateData: cfg.CertData,
		ClientKeyData:         cfg.KeyData,
		Token:                 cfg.BearerToken,
		Impersonate:           cfg.Impersonate.UserName,
		ImpersonateGroups:     cfg.Impersonate.Groups,
	}
	kc.Contexts["sa"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: "sa"}
	kc.CurrentContext = "sa"
	path := filepath.Join(t.TempDir(), "kubeconfig-"+serviceAccount)
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatalf("writing kubeconfig: %v", err)
	}
	return path
}
