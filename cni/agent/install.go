package agent

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/planeless/planeless/cni"
)

// StateDirName is the agent's folder in the CNI conf folder: the plugin's
// kubeconfig and token, and the primary CNI's file as found. Runtimes read
// only the files of the conf folder, not its folders.
const StateDirName = "planeless-cni"

// Files of the state folder.
const (
	kubeconfigFile = "kubeconfig"
	tokenFile      = "token"
	originalFile   = "original.json"
)

// installBinary copies the running binary to the CNI bin folder as the
// plugin, unless the same bytes are there already. Both are streamed: the
// binary is larger than the agent's memory should be.
func installBinary(binDir string) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding this binary: %w", err)
	}
	dst := filepath.Join(binDir, cni.PluginType)
	want, err := fileHash(self)
	if err != nil {
		return fmt.Errorf("reading this binary: %w", err)
	}
	if have, err := fileHash(dst); err == nil && bytes.Equal(have, want) {
		return nil
	}
	in, err := os.Open(self)
	if err != nil {
		return fmt.Errorf("reading this binary: %w", err)
	}
	defer in.Close()
	if err := writeAtomicFrom(dst, in, 0o755); err != nil {
		return fmt.Errorf("installing the plugin: %w", err)
	}
	return nil
}

func fileHash(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}

// writeKubeconfig writes the plugin's kubeconfig into dir: the API
// server and CA the agent itself uses, and its service account token,
// copied to a file of its own (refreshToken keeps it current as the
// kubelet rotates it).
func writeKubeconfig(cfg *rest.Config, dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	ca := cfg.CAData
	if len(ca) == 0 && cfg.CAFile != "" {
		var err error
		if ca, err = os.ReadFile(cfg.CAFile); err != nil {
			return "", fmt.Errorf("reading the API server's CA: %w", err)
		}
	}
	if err := refreshToken(cfg, dir); err != nil {
		return "", err
	}
	kc := clientcmdapi.NewConfig()
	kc.Clusters["cluster"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: ca}
	kc.AuthInfos["planeless-cni"] = &clientcmdapi.AuthInfo{TokenFile: filepath.Join(dir, tokenFile)}
	kc.Contexts["planeless-cni"] = &clientcmdapi.Context{Cluster: "cluster", AuthInfo: "planeless-cni"}
	kc.CurrentContext = "planeless-cni"
	data, err := clientcmd.Write(*kc)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, kubeconfigFile)
	if have, err := os.ReadFile(path); err == nil && bytes.Equal(have, data) {
		return path, nil
	}
	return path, writeAtomic(path, data, 0o600)
}

// refreshToken copies the agent's current token next to the kubeconfig,
// when it changed.
func refreshToken(cfg *rest.Config, dir string) error {
	token := []byte(cfg.BearerToken)
	if cfg.BearerTokenFile != "" {
		var err error
		if token, err = os.ReadFile(cfg.BearerTokenFile); err != nil {
			return fmt.Errorf("reading the service account token: %w", err)
		}
	}
	path := filepath.Join(dir, tokenFile)
	if have, err := os.ReadFile(path); err == nil && bytes.Equal(have, token) {
		return nil
	}
	return writeAtomic(path, token, 0o600)
}

// removeFiles removes the plugin binary and the state folder.
func removeFiles(binDir, stateDir string) error {
	errs := []error{os.RemoveAll(stateDir)}
	if err := os.Remove(filepath.Join(binDir, cni.PluginType)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
