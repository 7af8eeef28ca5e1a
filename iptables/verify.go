package iptables

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Missing returns the rules of family f that the nat table saved as save
// (iptables-save -t nat) lacks, as iptables-save would print them.
func Missing(save string, rules []Rule, f Family) []string {
	var present []string
	for line := range strings.Lines(save) {
		if strings.HasPrefix(line, "-A ") {
			present = append(present, strings.ReplaceAll(strings.TrimSpace(line), `"`, ""))
		}
	}
	var missing []string
	for _, r := range rules {
		if r.Family != f || r.Table != TableNAT {
			continue
		}
		if line := strings.ReplaceAll(r.String(), `"`, ""); !slices.Contains(present, line) {
			missing = append(missing, line)
		}
	}
	return missing
}

// Verify checks that the current network namespace holds every rule of
// Plan(c), through backend b; the error lists the missing ones. Like
// Install, it reads IPv4's nat table from the auto choice's save, and
// the families' tables at once.
func Verify(ctx context.Context, b Backend, c Config) error {
	b, saved, err := b.detect(ctx)
	if err != nil {
		return err
	}
	tables := map[Family]string{}
	running := map[Family]*process{}
	for _, f := range families(c.IPv6) {
		if f == IPv4 && saved != nil {
			tables[f] = natTable(saved.save)
			continue
		}
		save, _, err := restoreCommands(b, f)
		var p *process
		if err == nil {
			p, err = start(ctx, "", save, "-t", TableNAT)
		}
		if err != nil {
			waitAll(running)
			return err
		}
		running[f] = p
	}
	var errs []error
	for f, p := range running {
		var err error
		if tables[f], err = p.wait(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	rules := Plan(c)
	var missing []string
	for _, f := range families(c.IPv6) {
		missing = append(missing, Missing(tables[f], rules, f)...)
	}
	if len(missing) > 0 {
		return fmt.Errorf("%d of planeless's rules are missing (%s): %s", len(missing), b, strings.Join(missing, "; "))
	}
	return nil
}
