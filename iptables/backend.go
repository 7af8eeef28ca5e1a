package iptables

import (
	"errors"
	"fmt"
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

// A probe is what one variant's iptables-save printed for IPv4 (every
// table), or why it failed.
type probe struct {
	save string
	err  error
}

// choose is the auto choice, from the two variants' probes, like Istio's:
// a CNI or an earlier run may have used one variant, and rules must not be
// split between the two. It is pure.
func choose(nft, legacy probe) (Backend, error) {
	switch {
	case nft.err != nil && legacy.err != nil:
		return "", fmt.Errorf("neither iptables variant works: %w", errors.Join(nft.err, legacy.err))
	case nft.err != nil:
		return BackendLegacy, nil
	case countRules(legacy.save) > 0 && countRules(nft.save) == 0:
		return BackendLegacy, nil
	default:
		return BackendNFT, nil
	}
}

// countRules counts the rules in iptables-save output.
func countRules(save string) int {
	n := 0
	for line := range strings.Lines(save) {
		if strings.HasPrefix(line, "-A ") {
			n++
		}
	}
	return n
}
