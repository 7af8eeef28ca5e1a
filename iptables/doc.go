// Package iptables owns the rules that send a pod's TCP traffic through its
// Envoy sidecar, and nothing else.
//
// Config is everything the rules depend on; FromSpec derives it from a
// proxy.Spec, and Args/BindFlags carry it to the init container as the flags
// of `planeless init` and back. Plan is pure: it turns a Config into the
// rules, as data, in the order they are installed. Install puts them in
// place in one transaction per family (one iptables-save -t nat, one
// iptables-restore --noflush, whose input RestoreInput computes purely), so
// that running it again changes nothing; Uninstall removes them. Both pick
// the nft or legacy variant the node uses (choose, pure, from the two
// variants' saves). The processes that do not depend on each other run at
// once (the two variants' saves; the two families' transactions), the
// chosen variant's save stands in for IPv4's iptables-save -t nat, and a
// transaction that would change nothing is not run: a first install with
// auto and IPv6 is five processes, at most three one after another, where
// it was six one after another. Each
// is started from the calling goroutine, so a caller on a thread that
// entered a network namespace gets them all in that namespace.
//
// The rules live in the nat table in four chains of their own
// (PLANELESS_INBOUND, PLANELESS_IN_REDIRECT, PLANELESS_OUTPUT,
// PLANELESS_REDIRECT), reached from PREROUTING and OUTPUT for TCP only, and
// are ordered like Istio's so nothing loops: Envoy's own connections to the
// pod's address on an intercepted port go to the inbound listener, the
// application's connections to itself stay local, and Envoy's outbound
// connections leave the pod untouched.
package iptables
