package iptables

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// Backend is the iptables variant rules are installed with. Both program
// the same kernel hooks, but a pod whose node uses one should not get rules
// from the other: they are invisible to that variant's tools.
type Backend string

const (
	// BackendAuto picks legacy when only legacy has rules in the network
	// namespace, and nft otherwise (falling back to legacy when nft is
	// missing or does not work).
	BackendAuto   Backend = "auto"
	BackendNFT    Backend = "nft"
	BackendLegacy Backend = "legacy"
)

// Backends lists the accepted values of --backend.
var Backends = []Backend{BackendAuto, BackendNFT, BackendLegacy}

// ParseBackend checks a --backend value.
func ParseBackend(s string) (Backend, error) {
	for _, b := range Backends {
		if string(b) == s {
			return b, nil
		}
	}
	return "", fmt.Errorf("unknown iptables backend %q (want auto, nft or legacy)", s)
}

// Resolve turns BackendAuto into nft or legacy by looking at the rules the
// current network namespace already has, like Istio does: a CNI or an
// earlier run may have used one variant, and rules must not be split
// between the two.
func (b Backend) Resolve(ctx context.Context) (Backend, error) {
	if b != BackendAuto {
		return b, nil
	}
	nft, nftErr := countRules(ctx, "iptables-nft-save")
	legacy, legacyErr := countRules(ctx, "iptables-legacy-save")
	switch {
	case nftErr != nil && legacyErr != nil:
		return "", fmt.Errorf("neither iptables variant works: %w", errors.Join(nftErr, legacyErr))
	case nftErr != nil:
		return BackendLegacy, nil
	case legacy > 0 && nft == 0:
		return BackendLegacy, nil
	default:
		return BackendNFT, nil
	}
}

// countRules counts the rules a save command prints.
func countRules(ctx context.Context, save string) (int, error) {
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, save)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return 0, fmt.Errorf("running %s: %w: %s", save, err, strings.TrimSpace(stderr.String()))
	}
	n := 0
	for line := range strings.Lines(string(out)) {
		if strings.HasPrefix(line, "-A ") {
			n++
		}
	}
	return n, nil
}

// Install applies Plan(c) through backend b, for IPv4 and, when c.IPv6,
// IPv6. It returns the backend it used.
func Install(ctx context.Context, b Backend, c Config) (Backend, error) {
	if err := c.Validate(); err != nil {
		return "", fmt.Errorf("invalid config: %w", err)
	}
	b, err := b.Resolve(ctx)
	if err != nil {
		return "", err
	}
	if c.IPv6 {
		if err := addInboundSourceV6(); err != nil {
			return "", err
		}
	}
	rules := Plan(c)
	for _, f := range families(c.IPv6) {
		if err := Restore(ctx, b, f, rules); err != nil {
			return "", fmt.Errorf("installing %s rules: %w", f, err)
		}
	}
	if !c.IPv6 {
		// An earlier run may have installed IPv6 rules; where IPv6 does not
		// work there are none, and the error says only that.
		_ = Restore(ctx, b, IPv6, nil)
	}
	return b, nil
}

// Uninstall removes everything planeless installed through backend b, for
// IPv4 and, when ipv6, IPv6. It returns the backend it used.
func Uninstall(ctx context.Context, b Backend, ipv6 bool) (Backend, error) {
	b, err := b.Resolve(ctx)
	if err != nil {
		return "", err
	}
	for _, f := range families(ipv6) {
		if err := Restore(ctx, b, f, nil); err != nil {
			return "", fmt.Errorf("removing %s rules: %w", f, err)
		}
	}
	return b, nil
}

func families(ipv6 bool) []Family {
	if ipv6 {
		return []Family{IPv4, IPv6}
	}
	return []Family{IPv4}
}
