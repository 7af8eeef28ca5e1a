package iptables

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"
)

// Restore installs the rules of family f through backend b (not auto) in
// one transaction: one iptables-save to read what is there, one
// iptables-restore --noflush to change it. planeless's chains are flushed
// and refilled, the jumps into them that are missing are added, and jumps
// and chains it no longer wants are removed; nobody else's rules are
// touched. With no rules it removes everything planeless installed.
func Restore(ctx context.Context, b Backend, f Family, rules []Rule) error {
	save, restore, err := restoreCommands(b, f)
	if err != nil {
		return err
	}
	current, err := runCommand(ctx, nil, save, "-t", TableNAT)
	if err != nil {
		return err
	}
	input := RestoreInput(current, rules, f)
	// --wait: the legacy variant shares a lock with other iptables users.
	if _, err := runCommand(ctx, strings.NewReader(input), restore, "--noflush", "--wait"); err != nil {
		return fmt.Errorf("%w\ninput:\n%s", err, input)
	}
	return nil
}

// RestoreInput is what iptables-restore --noflush needs to turn the nat
// table saved as current into one holding exactly the rules of family f
// for planeless. It is pure: the transaction `planeless init` runs, as
// text.
func RestoreInput(current string, rules []Rule, f Family) string {
	rules = slices.DeleteFunc(slices.Clone(rules), func(r Rule) bool { return r.Family != f || r.Table != TableNAT })
	var existing, jumps []string
	for line := range strings.Lines(current) {
		line = strings.TrimSpace(line)
		if name, ok := strings.CutPrefix(line, ":"); ok {
			name, _, _ = strings.Cut(name, " ")
			if slices.Contains(OwnChains, name) {
				existing = append(existing, name)
			}
		}
		if strings.HasPrefix(line, "-A ") && !slices.ContainsFunc(OwnChains, func(c string) bool { return strings.HasPrefix(line, "-A "+c+" ") }) && jumpsToOwnChain(line) {
			jumps = append(jumps, line)
		}
	}
	wanted := func(chain string) bool {
		return slices.ContainsFunc(rules, func(r Rule) bool { return r.Chain == chain })
	}

	var b strings.Builder
	b.WriteString("*" + TableNAT + "\n")
	// Declaring a chain creates it, or flushes it when it exists.
	for _, chain := range OwnChains {
		if wanted(chain) || slices.Contains(existing, chain) {
			b.WriteString(":" + chain + " - [0:0]\n")
		}
	}
	var keep []string
	for _, line := range jumps {
		if slices.ContainsFunc(rules, func(r Rule) bool { return !r.own() && r.String() == line }) {
			keep = append(keep, line)
			continue
		}
		b.WriteString("-D" + strings.TrimPrefix(line, "-A") + "\n")
	}
	for _, r := range rules {
		if line := r.String(); r.own() || !slices.Contains(keep, line) {
			b.WriteString(line + "\n")
		}
	}
	for _, chain := range OwnChains {
		if !wanted(chain) && slices.Contains(existing, chain) {
			b.WriteString("-X " + chain + "\n")
		}
	}
	b.WriteString("COMMIT\n")
	return b.String()
}

// jumpsToOwnChain reports whether a saved rule's target is one of
// planeless's chains.
func jumpsToOwnChain(line string) bool {
	_, target, ok := strings.Cut(line, " -j ")
	target, _, _ = strings.Cut(target, " ")
	return ok && slices.Contains(OwnChains, target)
}

// restoreCommands names the save and restore programs of backend b for
// family f.
func restoreCommands(b Backend, f Family) (save, restore string, err error) {
	switch b {
	case BackendNFT, BackendLegacy:
		prefix := commandFor(f) + "-" + string(b)
		return prefix + "-save", prefix + "-restore", nil
	}
	return "", "", fmt.Errorf("backend %q is not resolved", b)
}

func runCommand(ctx context.Context, stdin *strings.Reader, name string, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	if stdin != nil {
		cmd.Stdin = stdin
	}
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("running %s: %w: %s", name, err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}
