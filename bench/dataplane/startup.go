package dataplane

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/planeless/planeless/bench/envoyquickly"
	"github.com/planeless/planeless/bootstrap"
	"github.com/planeless/planeless/tests/harness"
)

// Startup is the start-up cost of a planeless pod, medians of Runs runs.
type Startup struct {
	Runs int `json:"runs"`
	// InitMS is `planeless init` installing its rules in a fresh network
	// namespace, timed from outside (process start included);
	// ExecOverheadMS is the same for `true`, the part that is not ours.
	InitMS         float64 `json:"init_ms"`
	ExecOverheadMS float64 `json:"exec_overhead_ms"`
	// RestoreMS is the same rules (`planeless init --dry-run`) installed
	// with one iptables-restore and one ip6tables-restore, timed the same
	// way: what a batch applier would cost.
	RestoreMS float64 `json:"restore_ms"`
	// PlanelessReadyMS and EnvoyQuicklyReadyMS are Envoy's start to the
	// first 200 from /ready (polled every millisecond from inside the
	// pod), with planeless's rendered bootstrap and with envoy-quickly's.
	PlanelessReadyMS    float64 `json:"planeless_envoy_ready_ms"`
	EnvoyQuicklyReadyMS float64 `json:"envoy_quickly_envoy_ready_ms"`
	// ExtraMS is what a pod waits before its app starts: the rules, then
	// Envoy until ready (the app starts after the native sidecar's startup
	// probe passes; the kubelet's probe period adds up to 1 s on a node).
	ExtraMS float64 `json:"extra_before_app_ms"`
}

// MeasureStartup times rule installation and Envoy's start-up runs times.
func (b *Bench) MeasureStartup(t testing.TB, runs int) (Startup, error) {
	t.Helper()
	ctx := t.Context()
	var pl *Path
	for _, p := range b.Paths {
		if p.Name == Planeless {
			pl = p
		}
	}
	initArgv, err := initCommand(t, pl.Server)
	if err != nil {
		return Startup{}, err
	}
	// Envoy runs here without the pod's admin volume: its socket moves to
	// a folder of the harness that Envoy's user may write.
	adminDir := filepath.Join(b.H.Dir(), "startup-admin")
	if err := os.MkdirAll(adminDir, 0o777); err != nil {
		return Startup{}, err
	}
	if err := os.Chmod(adminDir, 0o777); err != nil {
		return Startup{}, err
	}
	config := strings.ReplaceAll(pl.Server.Bootstrap(), bootstrap.AdminSocket, filepath.Join(adminDir, "admin.sock"))
	bootstrapFile := filepath.Join(b.H.Dir(), "startup-bootstrap.yaml")
	if err := os.WriteFile(bootstrapFile, []byte(config), 0o644); err != nil {
		return Startup{}, err
	}
	eqConfig := filepath.Join(b.H.Dir(), "startup-envoy-quickly.yaml")
	if err := os.WriteFile(eqConfig, []byte(envoyquickly.Config), 0o644); err != nil {
		return Startup{}, err
	}

	restore, err := b.restoreScript(ctx, initArgv)
	if err != nil {
		return Startup{}, err
	}
	var inits, execs, restores, plReady, eqReady []float64
	for i := range runs {
		other := b.H.Plain(t, fmt.Sprintf("restore-%d", i), harness.PodOptions{})
		d, err := timed(ctx, other, 0, "sh", "-c", restore)
		if err != nil {
			return Startup{}, err
		}
		restores = append(restores, d)

		fresh := b.H.Plain(t, fmt.Sprintf("startup-%d", i), harness.PodOptions{})
		d, err = timed(ctx, fresh, 0, "true")
		if err != nil {
			return Startup{}, err
		}
		execs = append(execs, d)
		if d, err = timed(ctx, fresh, 0, initArgv...); err != nil {
			return Startup{}, err
		}
		inits = append(inits, d)
		ready, err := b.envoyReady(ctx, fresh, fmt.Sprintf("http://127.0.0.1:%d/ready", pl.Server.StatsPort), bootstrapFile)
		if err != nil {
			return Startup{}, err
		}
		plReady = append(plReady, ready)
		if ready, err = b.envoyReady(ctx, fresh, fmt.Sprintf("http://127.0.0.1:%d/ready", envoyquickly.AdminPort), eqConfig); err != nil {
			return Startup{}, err
		}
		eqReady = append(eqReady, ready)
	}
	s := Startup{
		Runs: runs, InitMS: median(inits), ExecOverheadMS: median(execs), RestoreMS: median(restores),
		PlanelessReadyMS: median(plReady), EnvoyQuicklyReadyMS: median(eqReady),
	}
	s.ExtraMS = s.InitMS + s.PlanelessReadyMS
	return s, nil
}

func (b *Bench) envoyReady(ctx context.Context, p *harness.Pod, url, config string) (float64, error) {
	argv := append([]string{b.BenchloadBin, "startup", "-url", url, "--", b.Envoy, "-c", config}, EnvoyFlags...)
	out, err := p.Exec(ctx, envoyquickly.ProxyUID, argv...)
	if err != nil {
		return 0, fmt.Errorf("timing envoy with %s: %w\n%s", config, err, out)
	}
	var r struct {
		ReadyMS float64 `json:"ready_ms"`
	}
	// Envoy's own log goes to stderr, which Exec returns too: the result
	// is the last line.
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
		return 0, fmt.Errorf("reading benchload startup output %q: %w", out, err)
	}
	return r.ReadyMS, nil
}

// restoreScript writes the rules `planeless init --dry-run` prints (one
// iptables-restore document per family) to files and returns the shell
// command that installs them in one process per family.
func (b *Bench) restoreScript(ctx context.Context, initArgv []string) (string, error) {
	out, err := exec.CommandContext(ctx, initArgv[0], append(initArgv[1:], "--dry-run")...).Output()
	if err != nil {
		return "", fmt.Errorf("planeless init --dry-run: %w", err)
	}
	var cmds []string
	for _, part := range strings.Split(string(out), "# ")[1:] {
		family, rules, _ := strings.Cut(part, "\n")
		family = strings.TrimSpace(family)
		if family != "iptables" && family != "ip6tables" {
			return "", fmt.Errorf("planeless init --dry-run printed rules for %q", family)
		}
		file := filepath.Join(b.H.Dir(), family+".rules")
		if err := os.WriteFile(file, []byte(rules), 0o644); err != nil {
			return "", err
		}
		cmds = append(cmds, family+"-restore --noflush < "+file)
	}
	if len(cmds) == 0 {
		return "", fmt.Errorf("planeless init --dry-run printed no rules:\n%s", out)
	}
	return strings.Join(cmds, " && "), nil
}

func initCommand(t testing.TB, p *harness.Pod) ([]string, error) {
	for _, c := range p.Object.Spec.InitContainers {
		if c.Name == harness.InitContainerName {
			argv := slices.Concat(c.Command, c.Args)
			if argv[0] = harness.ForCommand(t, argv[0]); argv[0] == "" {
				return nil, fmt.Errorf("pod %s runs %q in %s, not a planeless binary", p.Name, c.Command, c.Name)
			}
			return argv, nil
		}
	}
	return nil, fmt.Errorf("pod %s has no %s container", p.Name, harness.InitContainerName)
}

func timed(ctx context.Context, p *harness.Pod, uid int64, argv ...string) (float64, error) {
	start := time.Now()
	out, err := p.Exec(ctx, uid, argv...)
	d := float64(time.Since(start)) / float64(time.Millisecond)
	if err != nil {
		return 0, fmt.Errorf("%s: %v: %w\n%s", p.Name, argv, err, out)
	}
	return d, nil
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}
