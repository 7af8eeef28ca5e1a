package harness

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// StartEnvoy starts the proxy container's command as the proxy's UID, with
// exactly the container's args except -c, which points at a file holding
// exactly the pod's planeless.dev/bootstrap annotation; then waits until
// /ready on the stats port answers 200 from outside the pod.
func (p *Pod) StartEnvoy(t T) {
	t.Helper()
	if p.proxy == nil {
		t.Fatalf("pod %s has no %s container", p.Name, ProxyContainerName)
	}
	argv, err := p.envoyArgv(t)
	if err != nil {
		t.Fatalf("pod %s: %v", p.Name, err)
	}
	volumes, err := p.emptyDirs(p.proxy)
	if err != nil {
		t.Fatalf("pod %s: %v", p.Name, err)
	}
	proc, err := startProcess(p.dir, p.NS, "envoy", p.ProxyUID, p.ProxyGID, container{privateShm: true, volumes: volumes}, p.envList(p.proxy), argv...)
	if err != nil {
		t.Fatalf("pod %s: %v", p.Name, err)
	}
	p.mu.Lock()
	p.envoy = proc
	p.mu.Unlock()

	url := fmt.Sprintf("http://%s/ready", p.statsAddr())
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if done, err := proc.exited(); done {
			t.Fatalf("pod %s: envoy %s: %v\n%s", p.Name, strings.Join(argv[1:], " "), err, proc.tail(30))
		}
		if resp, err := client.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("pod %s: envoy not ready on %s within 30s\n%s", p.Name, url, proc.tail(30))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// KillEnvoy kills Envoy with SIGKILL (a crash, not a shutdown).
func (p *Pod) KillEnvoy(t T) {
	t.Helper()
	p.mu.Lock()
	proc := p.envoy
	p.mu.Unlock()
	if proc == nil {
		t.Fatalf("pod %s has no running envoy", p.Name)
	}
	proc.kill()
}

// EnvoyStdout is everything Envoy printed on stdout: its access logs.
func (p *Pod) EnvoyStdout(t T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(p.dir, "envoy.stdout.log"))
	if err != nil {
		t.Fatalf("reading envoy's stdout: %v", err)
	}
	return string(b)
}

// EnvoyStderr is Envoy's own log.
func (p *Pod) EnvoyStderr(t T) string {
	t.Helper()
	b, _ := os.ReadFile(filepath.Join(p.dir, "envoy.stderr.log"))
	return string(b)
}

// Bootstrap is the bootstrap Envoy runs with: the pod's annotation.
func (p *Pod) Bootstrap() string { return p.Object.Annotations[BootstrapAnnotation] }

// emptyDirs returns the emptyDir volumes c mounts, each a folder of the
// pod (pod folder/volumes/<name>, writable by anyone, as the kubelet makes
// them) mapped to its mount path.
func (p *Pod) emptyDirs(c *corev1.Container) (map[string]string, error) {
	volumes := map[string]string{}
	for _, m := range c.VolumeMounts {
		i := slices.IndexFunc(p.Object.Spec.Volumes, func(v corev1.Volume) bool { return v.Name == m.Name })
		if i < 0 || p.Object.Spec.Volumes[i].EmptyDir == nil {
			continue
		}
		dir := p.VolumeDir(m.Name)
		if err := os.MkdirAll(dir, 0o777); err != nil {
			return nil, fmt.Errorf("creating volume %s: %w", m.Name, err)
		}
		if err := os.Chmod(dir, 0o777); err != nil {
			return nil, fmt.Errorf("opening volume %s: %w", m.Name, err)
		}
		volumes[dir] = m.MountPath
	}
	return volumes, nil
}

// VolumeDir is the folder that holds the pod's emptyDir volume name.
func (p *Pod) VolumeDir(name string) string { return filepath.Join(p.dir, "volumes", name) }

func (p *Pod) statsAddr() string { return fmt.Sprintf("%s:%d", p.IP, p.StatsPort) }

// envoyArgv is the proxy container's command and args with the binary
// replaced by the real Envoy and -c pointing at the bootstrap file.
func (p *Pod) envoyArgv(t T) ([]string, error) {
	bootstrap := p.Bootstrap()
	if bootstrap == "" {
		return nil, fmt.Errorf("the pod has no %s annotation", BootstrapAnnotation)
	}
	argv := p.expandAll(p.proxy, slices.Concat(p.proxy.Command, p.proxy.Args))
	if len(argv) == 0 {
		return nil, fmt.Errorf("container %s has no command", ProxyContainerName)
	}
	// The file keeps the name the container gives it: Envoy reads the
	// format from the extension.
	file := filepath.Join(p.dir, filepath.Base(configPath(argv)))
	if err := os.WriteFile(file, []byte(bootstrap), 0o644); err != nil {
		return nil, fmt.Errorf("writing the bootstrap: %w", err)
	}
	argv[0] = p.h.envoyFor(t, p.ProxyUID, p.ProxyGID)
	rewritten := false
	for i := 1; i < len(argv); i++ {
		switch {
		case (argv[i] == "-c" || argv[i] == "--config-path") && i+1 < len(argv):
			argv[i+1] = file
			rewritten = true
		case strings.HasPrefix(argv[i], "-c="), strings.HasPrefix(argv[i], "--config-path="):
			k, _, _ := strings.Cut(argv[i], "=")
			argv[i] = k + "=" + file
			rewritten = true
		}
	}
	if !rewritten {
		return nil, fmt.Errorf("container %s args %v have no -c", ProxyContainerName, argv[1:])
	}
	return argv, nil
}

// EnvoyPID is the process id of the running Envoy (0 when none runs).
func (p *Pod) EnvoyPID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.envoy == nil || p.envoy.cmd.Process == nil {
		return 0
	}
	if done, _ := p.envoy.exited(); done {
		return 0
	}
	return p.envoy.cmd.Process.Pid
}

// configPath returns the value of Envoy's -c (or --config-path) in argv.
func configPath(argv []string) string {
	for i := 1; i < len(argv); i++ {
		switch {
		case (argv[i] == "-c" || argv[i] == "--config-path") && i+1 < len(argv):
			return argv[i+1]
		case strings.HasPrefix(argv[i], "-c="), strings.HasPrefix(argv[i], "--config-path="):
			_, v, _ := strings.Cut(argv[i], "=")
			return v
		}
	}
	return "bootstrap.yaml"
}
