package iptables

import (
	"context"
)

// Resolve turns BackendAuto into nft or legacy by looking at the rules the
// current network namespace already has (see choose).
func (b Backend) Resolve(ctx context.Context) (Backend, error) {
	b, _, err := b.detect(ctx)
	return b, err
}

// detect is Resolve that also returns the chosen variant's IPv4 save, all
// tables, when it ran one: its nat table is what that variant's
// iptables-save -t nat would print, so Install need not run it again. The
// two variants' saves run at the same time.
func (b Backend) detect(ctx context.Context) (Backend, *probe, error) {
	if b != BackendAuto {
		return b, nil, nil
	}
	var probes [2]probe
	var running [2]*process
	for i, save := range []string{"iptables-nft-save", "iptables-legacy-save"} {
		running[i], probes[i].err = start(ctx, "", save)
	}
	for i, p := range running {
		if p != nil {
			probes[i].save, probes[i].err = p.wait()
		}
	}
	chosen, err := choose(probes[0], probes[1])
	if err != nil {
		return "", nil, err
	}
	if chosen == BackendLegacy {
		return chosen, &probes[1], nil
	}
	return chosen, &probes[0], nil
}
