package iptables

import (
	"context"
	"fmt"
	"slices"

	goiptables "github.com/coreos/go-iptables/iptables"
)

// Tables is the part of *goiptables.IPTables that Apply and Cleanup use,
// for one IP family.
type Tables interface {
	Proto() goiptables.Protocol
	ChainExists(table, chain string) (bool, error)
	ClearChain(table, chain string) error
	DeleteChain(table, chain string) error
	Append(table, chain string, rulespec ...string) error
	AppendUnique(table, chain string, rulespec ...string) error
	DeleteIfExists(table, chain string, rulespec ...string) error
}

var _ Tables = (*goiptables.IPTables)(nil)

// Apply installs the rules of ipt's family and removes whatever planeless
// installed before that they no longer contain. Running it twice with the
// same rules leaves the tables as the first run left them: planeless's
// chains are flushed and refilled, and the jumps into them from built-in
// chains are appended only when missing.
func Apply(ctx context.Context, ipt Tables, rules []Rule) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f := familyOf(ipt.Proto())
	rules = slices.DeleteFunc(slices.Clone(rules), func(r Rule) bool { return r.Family != f })
	wanted := func(chain string) bool {
		return slices.ContainsFunc(rules, func(r Rule) bool { return r.Chain == chain })
	}

	// Jumps this plan does not want go first, while their targets exist.
	for _, j := range jumps(f) {
		if slices.ContainsFunc(rules, func(r Rule) bool { return slices.Equal(r.Spec, j.rule.Spec) && r.Chain == j.rule.Chain }) {
			continue
		}
		if err := deleteJump(ipt, j); err != nil {
			return err
		}
	}

	// Flush every chain of ours before deleting any: they jump to each other.
	var stale []string
	for _, chain := range OwnChains {
		if err := ctx.Err(); err != nil {
			return err
		}
		exists, err := ipt.ChainExists(TableNAT, chain)
		if err != nil {
			return fmt.Errorf("checking chain %s: %w", chain, err)
		}
		if !exists && !wanted(chain) {
			continue
		}
		if err := ipt.ClearChain(TableNAT, chain); err != nil {
			return fmt.Errorf("clearing chain %s: %w", chain, err)
		}
		if !wanted(chain) {
			stale = append(stale, chain)
		}
	}
	for _, chain := range stale {
		if err := ipt.DeleteChain(TableNAT, chain); err != nil {
			return fmt.Errorf("deleting chain %s: %w", chain, err)
		}
	}

	for _, r := range rules {
		if err := ctx.Err(); err != nil {
			return err
		}
		add := ipt.Append
		if !r.own() {
			add = ipt.AppendUnique
		}
		if err := add(r.Table, r.Chain, r.Spec...); err != nil {
			return fmt.Errorf("adding rule %q: %w", r.String(), err)
		}
	}
	return nil
}

// Cleanup removes everything planeless installed in ipt's family: the
// jumps from built-in chains and planeless's own chains.
func Cleanup(ctx context.Context, ipt Tables) error {
	return Apply(ctx, ipt, nil)
}

// deleteJump removes j if its target chain exists (checking a rule that
// jumps to a missing chain is an error, not a "no").
func deleteJump(ipt Tables, j jump) error {
	exists, err := ipt.ChainExists(TableNAT, j.target)
	if err != nil {
		return fmt.Errorf("checking chain %s: %w", j.target, err)
	}
	if !exists {
		return nil
	}
	if err := ipt.DeleteIfExists(j.rule.Table, j.rule.Chain, j.rule.Spec...); err != nil {
		return fmt.Errorf("deleting rule %q: %w", j.rule.String(), err)
	}
	return nil
}

func familyOf(p goiptables.Protocol) Family {
	if p == goiptables.ProtocolIPv6 {
		return IPv6
	}
	return IPv4
}
