package iptables

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Restore installs the rules of family f through backend b (not auto) in
// one transaction: one iptables-save to read what is there, one
// iptables-restore --noflush to change it. planeless's chains are flushed
// and refilled, the jumps into them that are missing are added, and jumps
// and chains it no longer wants are removed; nobody else's rules are
// touched. With no rules it removes everything planeless installed, and
// when there is nothing to remove it runs no iptables-restore.
func Restore(ctx context.Context, b Backend, f Family, rules []Rule) error {
	if _, _, err := restoreCommands(b, f); err != nil {
		return err
	}
	return transact(ctx, b, nil, []transaction{{family: f, rules: rules}})
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

// natTable is the nat table of iptables-save output that holds every
// table: what iptables-save -t nat prints, minus its comments. It is empty
// when there is no nat table, which holds no rules either.
func natTable(save string) string {
	var b strings.Builder
	in := false
	for line := range strings.Lines(save) {
		switch trimmed := strings.TrimSpace(line); {
		case trimmed == "*"+TableNAT:
			in = true
		case !in:
			continue
		case trimmed == "COMMIT":
			b.WriteString(line)
			return b.String()
		}
		b.WriteString(line)
	}
	return b.String()
}

// emptyInput is RestoreInput when there is nothing to change: running it
// would change nothing, so it is not run.
const emptyInput = "*" + TableNAT + "\nCOMMIT\n"
