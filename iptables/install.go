package iptables

import (
	"context"
	"errors"
	"fmt"
)

// Install applies Plan(c) through backend b, for IPv4 and, when c.IPv6,
// IPv6. It returns the backend it used.
//
// With auto, the two variants' IPv4 saves that choose the backend run at
// once, and the chosen one's nat table is what the IPv4 transaction
// starts from. Then the two families' transactions run at once.
func Install(ctx context.Context, b Backend, c Config) (Backend, error) {
	if err := c.Validate(); err != nil {
		return "", fmt.Errorf("invalid config: %w", err)
	}
	b, saved, err := b.detect(ctx)
	if err != nil {
		return "", err
	}
	if c.IPv6 {
		if err := addInboundSourceV6(); err != nil {
			return "", err
		}
	}
	rules := Plan(c)
	txs := []transaction{
		{family: IPv4, rules: rules},
		// Without IPv6, an earlier run may still have installed IPv6
		// rules; where IPv6 does not work there are none, and the error
		// says only that.
		{family: IPv6, rules: rules, optional: !c.IPv6},
	}
	if err := transact(ctx, b, saved, txs); err != nil {
		return "", err
	}
	return b, nil
}

// Uninstall removes everything planeless installed through backend b, for
// IPv4 and, when ipv6, IPv6. It returns the backend it used.
func Uninstall(ctx context.Context, b Backend, ipv6 bool) (Backend, error) {
	b, saved, err := b.detect(ctx)
	if err != nil {
		return "", err
	}
	var txs []transaction
	for _, f := range families(ipv6) {
		txs = append(txs, transaction{family: f, removing: true})
	}
	if err := transact(ctx, b, saved, txs); err != nil {
		return "", err
	}
	return b, nil
}

// A transaction is one family's change of the nat table: to the rules of
// that family among rules, or, with none, to no planeless rules at all.
type transaction struct {
	family Family
	rules  []Rule
	// removing words the error; an optional transaction's error is
	// dropped.
	removing, optional bool

	save, restore *process
	current       string
	input         string
	err           error
}

// transact runs txs through backend b (resolved), all families at once:
// first every iptables-save -t nat (but IPv4's, when saved is b's IPv4
// save of every table), then each family's iptables-restore --noflush as
// soon as its table is read, unless it would change nothing. Every process
// started is waited for, whatever fails.
func transact(ctx context.Context, b Backend, saved *probe, txs []transaction) error {
	for i := range txs {
		tx := &txs[i]
		if tx.family == IPv4 && saved != nil {
			tx.current = natTable(saved.save)
			continue
		}
		save, _, err := restoreCommands(b, tx.family)
		if err != nil {
			tx.err = err
			continue
		}
		tx.save, tx.err = start(ctx, "", save, "-t", TableNAT)
	}
	for i := range txs {
		tx := &txs[i]
		if tx.save != nil {
			tx.current, tx.err = tx.save.wait()
		}
		if tx.err != nil {
			continue
		}
		if tx.input = RestoreInput(tx.current, tx.rules, tx.family); tx.input == emptyInput {
			continue
		}
		_, restore, err := restoreCommands(b, tx.family)
		if err != nil {
			tx.err = err
			continue
		}
		// --wait: the legacy variant shares a lock with other iptables
		// users, the other family's restore among them.
		tx.restore, tx.err = start(ctx, tx.input, restore, "--noflush", "--wait")
	}
	var errs []error
	for i := range txs {
		tx := &txs[i]
		if tx.restore != nil {
			if _, err := tx.restore.wait(); err != nil {
				tx.err = fmt.Errorf("%w\ninput:\n%s", err, tx.input)
			}
		}
		if tx.err == nil || tx.optional {
			continue
		}
		verb := "installing"
		if tx.removing {
			verb = "removing"
		}
		errs = append(errs, fmt.Errorf("%s %s rules: %w", verb, tx.family, tx.err))
	}
	return errors.Join(errs...)
}

func families(ipv6 bool) []Family {
	if ipv6 {
		return []Family{IPv4, IPv6}
	}
	return []Family{IPv4}
}
