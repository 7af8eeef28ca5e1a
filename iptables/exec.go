package iptables

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// A process is an iptables tool started and not yet waited for. Several
// run at once, but each is started from the calling goroutine: a caller
// that entered a network namespace on a locked OS thread (the CNI plugin,
// ns.WithNetNSPath) gets its children in that namespace, which a
// goroutine of its own would not.
type process struct {
	name           string
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
}

// start runs name with args, stdin (if not empty) as its input.
func start(ctx context.Context, stdin, name string, args ...string) (*process, error) {
	p := &process{name: name, cmd: exec.CommandContext(ctx, name, args...)}
	if stdin != "" {
		p.cmd.Stdin = strings.NewReader(stdin)
	}
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("running %s: %w", name, err)
	}
	return p, nil
}

// wait waits for the process to end and returns what it printed.
func (p *process) wait() (string, error) {
	if err := p.cmd.Wait(); err != nil {
		return "", fmt.Errorf("running %s: %w: %s", p.name, err, strings.TrimSpace(p.stderr.String()))
	}
	return p.stdout.String(), nil
}

// runCommand runs one process to its end.
func runCommand(ctx context.Context, stdin, name string, args ...string) (string, error) {
	p, err := start(ctx, stdin, name, args...)
	if err != nil {
		return "", err
	}
	return p.wait()
}

// waitAll waits for processes whose output no longer matters, so none is
// left behind.
func waitAll[K comparable](running map[K]*process) {
	for _, p := range running {
		_, _ = p.wait()
	}
}
