package harness

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// process is one long-running program inside a pod (Envoy or an app).
// Its stdout and stderr go to files in the pod's folder, appended across
// restarts.
type process struct {
	name   string
	cmd    *exec.Cmd
	done   chan struct{}
	mu     sync.Mutex
	err    error
	stdout string
	stderr string
}

// shmWrapper gives the program a private /dev/shm, as a container has:
// two Envoys on one host would otherwise fight over their hot-restart
// shared memory. `ip netns exec` already runs it in its own mount
// namespace, so the mount stays private.
const shmWrapper = `mount -t tmpfs -o mode=1777 shm /dev/shm`

// bindMount mounts a folder of the pod over a path, in the program's own
// mount namespace: a container's emptyDir volume.
const bindMount = ` && mkdir -p %[2]q && mount --bind %[1]q %[2]q`

// container is what a process sees besides the pod's network: a private
// /dev/shm, and volumes (pod folder -> mount path).
type container struct {
	privateShm bool
	volumes    map[string]string
}

// wrapper is the command that sets up what the container sees before it
// execs the program: nothing when there is nothing to set up. Volumes are
// mounted parents first.
func (c container) wrapper(name string) []string {
	if !c.privateShm && len(c.volumes) == 0 {
		return nil
	}
	script := "true"
	if c.privateShm {
		script = shmWrapper
	}
	froms := slices.SortedFunc(maps.Keys(c.volumes), func(a, b string) int { return strings.Compare(c.volumes[a], c.volumes[b]) })
	for _, from := range froms {
		script += fmt.Sprintf(bindMount, from, c.volumes[from])
	}
	return []string{"sh", "-c", script + ` && exec "$@"`, name}
}

func startProcess(dir, ns, name string, uid, gid int64, c container, env []string, argv ...string) (*process, error) {
	args := slices.Concat([]string{"netns", "exec", ns}, c.wrapper(name))
	args = append(args, "setpriv")
	args = append(args, credentials(uid, gid, argv...)...)
	cmd := exec.Command("ip", args...)
	cmd.Env = append([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/tmp"}, env...)
	p, err := newProcess(dir, name, cmd)
	if err != nil {
		return nil, err
	}
	return p, p.start()
}

func newProcess(dir, name string, cmd *exec.Cmd) (*process, error) {
	return &process{
		name:   name,
		cmd:    cmd,
		done:   make(chan struct{}),
		stdout: filepath.Join(dir, name+".stdout.log"),
		stderr: filepath.Join(dir, name+".stderr.log"),
	}, nil
}

// start runs the command in its own process group, appending its output
// to the log files.
func (p *process) start() error {
	stdout, err := os.OpenFile(p.stdout, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("opening %s: %w", p.stdout, err)
	}
	stderr, err := os.OpenFile(p.stderr, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		stdout.Close()
		return fmt.Errorf("opening %s: %w", p.stderr, err)
	}
	p.cmd.Stdout, p.cmd.Stderr = stdout, stderr
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		stdout.Close()
		stderr.Close()
		return fmt.Errorf("starting %s: %w", p.name, err)
	}
	go func() {
		err := p.cmd.Wait()
		stdout.Close()
		stderr.Close()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(p.done)
	}()
	return nil
}

// exited reports whether the process ended, and how.
func (p *process) exited() (bool, error) {
	select {
	case <-p.done:
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.err == nil {
			return true, errors.New("exited with status 0")
		}
		return true, p.err
	default:
		return false, nil
	}
}

// kill sends SIGKILL to the process group and waits for the end.
func (p *process) kill() {
	if p.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
	}
}

// tail returns the last n lines of the process's stderr and stdout.
func (p *process) tail(n int) string {
	var b strings.Builder
	for _, f := range []string{p.stderr, p.stdout} {
		data, _ := os.ReadFile(f)
		if len(data) == 0 {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		if len(lines) > n {
			lines = lines[len(lines)-n:]
		}
		fmt.Fprintf(&b, "--- %s (last %d lines)\n%s\n", filepath.Base(f), n, strings.Join(lines, "\n"))
	}
	return b.String()
}
