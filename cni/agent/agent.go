package agent

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"golang.org/x/sync/errgroup"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// DefaultResync is how often the agent checks its entry and refreshes the
// plugin's token besides watching the conf folder.
const DefaultResync = 30 * time.Second

// Options configure Run.
type Options struct {
	// BinDir and ConfDir are the node's CNI folders (the runtime's
	// bin_dir and conf_dir), as the agent's pod mounts them.
	BinDir, ConfDir string
	// ConfFile names the configuration file to chain into; empty: the
	// first in lexical order, the one the runtime uses.
	ConfFile string
	// ExcludeNamespaces are passed through by the plugin unread.
	ExcludeNamespaces []string
	// Node is the agent's node, whose stranded pods it deletes.
	Node string
	// ReadyFile exists while the plugin is chained (the readiness probe
	// looks for it); none when empty.
	ReadyFile string
	// Resync is DefaultResync when 0.
	Resync time.Duration

	// Config is how the agent reaches the API server; the plugin's
	// kubeconfig is written from it.
	Config *rest.Config
	Log    *slog.Logger
}

// Run installs the plugin and keeps it chained until ctx ends, then
// removes it and gives the node's configuration back.
func Run(ctx context.Context, o Options) (err error) {
	if o.BinDir == "" || o.ConfDir == "" || o.Node == "" {
		return errors.New("the CNI bin folder, the CNI conf folder and the node's name are all needed")
	}
	client, err := kubernetes.NewForConfig(o.Config)
	if err != nil {
		return fmt.Errorf("creating the API client: %w", err)
	}
	stateDir := filepath.Join(o.ConfDir, StateDirName)
	// Whatever happens from here, the node is left as it was found.
	defer func() {
		if cerr := uninstall(o, stateDir); cerr != nil {
			err = errors.Join(err, fmt.Errorf("removing the plugin: %w", cerr))
		} else {
			o.Log.Info("plugin removed, the CNI configuration given back", "dir", o.ConfDir)
		}
	}()
	if err := installBinary(o.BinDir); err != nil {
		return err
	}
	kubeconfig, err := writeKubeconfig(o.Config, stateDir)
	if err != nil {
		return fmt.Errorf("writing the plugin's kubeconfig: %w", err)
	}
	watcher, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watching the CNI conf folder: %w", err)
	}
	defer watcher.Close()
	if err := watcher.Add(o.ConfDir); err != nil {
		return fmt.Errorf("watching the CNI conf folder: %w", err)
	}

	k := &keeper{opts: o, entry: Entry(kubeconfig, o.ExcludeNamespaces), original: filepath.Join(stateDir, originalFile), chained: make(chan struct{}, 1)}
	r := &repair{client: client, node: o.Node, log: o.Log, since: k.since}
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return r.run(ctx, k.chained) })
	g.Go(func() error {
		ticker := time.NewTicker(cmp.Or(o.Resync, DefaultResync))
		defer ticker.Stop()
		k.ensureOrLog()
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-watcher.Events:
			case err := <-watcher.Errors:
				o.Log.Error("watching the CNI conf folder", "error", err)
			case <-ticker.C:
				if err := refreshToken(o.Config, stateDir); err != nil {
					o.Log.Error("refreshing the plugin's token", "error", err)
				}
			}
			k.ensureOrLog()
		}
	})
	return g.Wait()
}

// keeper keeps the plugin chained.
type keeper struct {
	opts     Options
	entry    []byte
	original string
	chained  chan struct{}

	mu      sync.Mutex
	at      time.Time
	waiting bool
	lastErr error
}

// ensureOrLog is ensure, its error logged when it differs from the last
// one: a file the primary CNI is rewriting, or cannot be read, is tried
// again at the next change or resync, and the agent is not ready until it
// works.
func (k *keeper) ensureOrLog() {
	err := k.ensure()
	k.mu.Lock()
	defer k.mu.Unlock()
	if err != nil && (k.lastErr == nil || err.Error() != k.lastErr.Error()) {
		k.opts.Log.Error("chaining the plugin", "error", err)
	}
	k.lastErr = err
}

// ensure chains the plugin when it is not.
func (k *keeper) ensure() error {
	file, wrote, err := chain(k.opts.ConfDir, k.opts.ConfFile, k.original, k.entry)
	if err != nil {
		return fmt.Errorf("chaining the plugin into the CNI configuration: %w", err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if file == "" {
		if !k.waiting {
			k.opts.Log.Info("waiting for the primary CNI's configuration", "dir", k.opts.ConfDir, "file", k.opts.ConfFile)
		}
		k.waiting = true
		return nil
	}
	k.waiting = false
	if !wrote && !k.at.IsZero() {
		return nil
	}
	k.at = time.Now()
	k.opts.Log.Info("plugin chained", "file", filepath.Join(k.opts.ConfDir, file), "rewritten", wrote)
	if k.opts.ReadyFile != "" {
		if err := os.WriteFile(k.opts.ReadyFile, nil, 0o644); err != nil {
			return fmt.Errorf("writing the ready file: %w", err)
		}
	}
	select {
	case k.chained <- struct{}{}:
	default:
	}
	return nil
}

// since is when the plugin was last chained, and whether it is.
func (k *keeper) since() (time.Time, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.at, !k.at.IsZero()
}

func uninstall(o Options, stateDir string) error {
	var errs []error
	if o.ReadyFile != "" {
		if err := os.Remove(o.ReadyFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	// The entry goes first: the runtime must not call a plugin that is
	// no longer there.
	kubeconfig := filepath.Join(stateDir, kubeconfigFile)
	if err := unchain(o.ConfDir, filepath.Join(stateDir, originalFile), Entry(kubeconfig, o.ExcludeNamespaces)); err != nil {
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		errs = append(errs, removeFiles(o.BinDir, stateDir))
	}
	return errors.Join(errs...)
}
