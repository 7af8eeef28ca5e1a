package agent

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/planeless/planeless/cni"
)

// eventually polls cond until it holds, failing after a minute.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within a minute", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The agent on real folders: it installs the plugin and its kubeconfig,
// chains the plugin, chains it again when the primary CNI rewrites its
// file, and when stopped gives the folders back as they were. (The API
// server is unreachable here: only the repair of pods needs it.)
func TestRunInstallsKeepsAndGivesBack(t *testing.T) {
	bin, conf := t.TempDir(), t.TempDir()
	primary := filepath.Join(conf, "10-bridge.conflist")
	original := testdata(t, "bridge.conflist")
	if err := os.WriteFile(primary, []byte(original), 0o644); err != nil {
		t.Fatal(err)
	}
	token := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(token, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	ready := filepath.Join(t.TempDir(), "ready")
	ctx, stop := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{
			BinDir: bin, ConfDir: conf, Node: "node-1", ReadyFile: ready, ExcludeNamespaces: []string{"kube-system"},
			Config: &rest.Config{Host: "https://127.0.0.1:1", BearerTokenFile: token},
			Log:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
	}()
	chained := func() bool {
		b, err := os.ReadFile(primary)
		return err == nil && Has(filepath.Base(primary), b)
	}
	eventually(t, "the plugin chained", func() bool {
		select {
		case err := <-done:
			t.Fatalf("Run stopped: %v", err)
		default:
		}
		_, err := os.Stat(ready)
		return err == nil && chained()
	})
	for _, f := range []string{filepath.Join(bin, cni.PluginType), filepath.Join(conf, StateDirName, kubeconfigFile), filepath.Join(conf, StateDirName, tokenFile)} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("not installed: %v", err)
		}
	}

	// The primary CNI writes its file again, without the plugin.
	if err := os.WriteFile(primary, []byte(original), 0o644); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the plugin chained again after the rewrite", chained)

	stop()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := contents(t, conf); len(got) != 1 || got["10-bridge.conflist"] != original {
		t.Errorf("the conf folder after the agent: %q", got)
	}
	for _, gone := range []string{filepath.Join(bin, cni.PluginType), filepath.Join(conf, StateDirName), ready} {
		if _, err := os.Stat(gone); !os.IsNotExist(err) {
			t.Errorf("%s is left behind: %v", gone, err)
		}
	}
}
