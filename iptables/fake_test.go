package iptables

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	goiptables "github.com/coreos/go-iptables/iptables"
)

// fakeTables is an in-memory nat table that records every call and behaves
// like iptables where Apply depends on it: built-in chains always exist, a
// chain in use cannot be deleted, and a rule cannot jump to a missing chain.
type fakeTables struct {
	proto  goiptables.Protocol
	chains map[string][]string // chain -> rules, as joined rulespecs
	calls  []string
	// failOn makes the call whose record starts with it fail.
	failOn string
}

var builtinChains = []string{"PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"}

func newFakeTables(proto goiptables.Protocol) *fakeTables {
	f := &fakeTables{proto: proto, chains: map[string][]string{}}
	for _, c := range builtinChains {
		f.chains[c] = nil
	}
	return f
}

func (f *fakeTables) record(call string) error {
	f.calls = append(f.calls, call)
	if f.failOn != "" && strings.HasPrefix(call, f.failOn) {
		return errors.New("injected failure")
	}
	return nil
}

func (f *fakeTables) Proto() goiptables.Protocol { return f.proto }

func (f *fakeTables) ChainExists(table, chain string) (bool, error) {
	if err := f.record("ChainExists " + chain); err != nil {
		return false, err
	}
	_, ok := f.chains[chain]
	return ok && table == TableNAT, nil
}

func (f *fakeTables) ClearChain(table, chain string) error {
	if err := f.record("ClearChain " + chain); err != nil {
		return err
	}
	f.chains[chain] = nil
	return nil
}

func (f *fakeTables) DeleteChain(table, chain string) error {
	if err := f.record("DeleteChain " + chain); err != nil {
		return err
	}
	rules, ok := f.chains[chain]
	switch {
	case !ok || slices.Contains(builtinChains, chain):
		return fmt.Errorf("no chain %s", chain)
	case len(rules) > 0:
		return fmt.Errorf("chain %s is not empty", chain)
	case f.referenced(chain):
		return fmt.Errorf("chain %s is in use", chain)
	}
	delete(f.chains, chain)
	return nil
}

func (f *fakeTables) Append(table, chain string, rulespec ...string) error {
	if err := f.record("Append " + chain + " " + strings.Join(rulespec, " ")); err != nil {
		return err
	}
	return f.append(chain, rulespec)
}

func (f *fakeTables) AppendUnique(table, chain string, rulespec ...string) error {
	if err := f.record("AppendUnique " + chain + " " + strings.Join(rulespec, " ")); err != nil {
		return err
	}
	exists, err := f.exists(chain, rulespec)
	if err != nil || exists {
		return err
	}
	return f.append(chain, rulespec)
}

func (f *fakeTables) DeleteIfExists(table, chain string, rulespec ...string) error {
	if err := f.record("DeleteIfExists " + chain + " " + strings.Join(rulespec, " ")); err != nil {
		return err
	}
	exists, err := f.exists(chain, rulespec)
	if err != nil || !exists {
		return err
	}
	rule := strings.Join(rulespec, " ")
	i := slices.Index(f.chains[chain], rule)
	f.chains[chain] = slices.Delete(f.chains[chain], i, i+1)
	return nil
}

func (f *fakeTables) append(chain string, rulespec []string) error {
	if _, ok := f.chains[chain]; !ok {
		return fmt.Errorf("no chain %s", chain)
	}
	if err := f.checkTarget(rulespec); err != nil {
		return err
	}
	f.chains[chain] = append(f.chains[chain], strings.Join(rulespec, " "))
	return nil
}

// exists is iptables -C: checking a rule whose target is a missing chain
// fails rather than answering no.
func (f *fakeTables) exists(chain string, rulespec []string) (bool, error) {
	if _, ok := f.chains[chain]; !ok {
		return false, fmt.Errorf("no chain %s", chain)
	}
	if err := f.checkTarget(rulespec); err != nil {
		return false, err
	}
	return slices.Contains(f.chains[chain], strings.Join(rulespec, " ")), nil
}

func (f *fakeTables) checkTarget(rulespec []string) error {
	i := slices.Index(rulespec, "-j")
	if i < 0 || i+1 >= len(rulespec) {
		return nil
	}
	target := rulespec[i+1]
	if _, ok := f.chains[target]; !ok && strings.HasPrefix(target, "PLANELESS_") {
		return fmt.Errorf("couldn't load target %s", target)
	}
	return nil
}

func (f *fakeTables) referenced(chain string) bool {
	for _, rules := range f.chains {
		for _, r := range rules {
			if strings.HasSuffix(r, "-j "+chain) || strings.Contains(r, "-j "+chain+" ") {
				return true
			}
		}
	}
	return false
}

// save prints the table like iptables-save: built-in chains, then the
// others sorted, then the rules chain by chain.
func (f *fakeTables) save() string {
	var others []string
	for c := range f.chains {
		if !slices.Contains(builtinChains, c) {
			others = append(others, c)
		}
	}
	slices.Sort(others)
	order := append(slices.Clone(builtinChains), others...)
	var b strings.Builder
	b.WriteString("*nat\n")
	for _, c := range order {
		b.WriteString(":" + c + "\n")
	}
	for _, c := range order {
		for _, r := range f.chains[c] {
			b.WriteString("-A " + c + " " + r + "\n")
		}
	}
	b.WriteString("COMMIT\n")
	return b.String()
}
