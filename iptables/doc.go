// Package iptables owns the rules that send a pod's TCP traffic through its
// Envoy sidecar, and nothing else.
//
// Config is everything the rules depend on; FromSpec derives it from a
// proxy.Spec, and Args/BindFlags carry it to the init container as the flags
// of `planeless init` and back. Plan is pure: it turns a Config into the
// rules, as data, in the order they are installed. Install puts them in
// place in one transaction per family (Restore: one iptables-save, one
// iptables-restore --noflush, whose input RestoreInput computes purely), so
// that running it again changes nothing; Uninstall removes them. Both pick
// the nft or legacy variant the node uses.
//
// The rules live in the nat table in four chains of their own
// (PLANELESS_INBOUND, PLANELESS_IN_REDIRECT, PLANELESS_OUTPUT,
// PLANELESS_REDIRECT), reached from PREROUTING and OUTPUT for TCP only, and
// are ordered like Istio's so nothing loops: Envoy's own connections to the
// pod's address on an intercepted port go to the inbound listener, the
// application's connections to itself stay local, and Envoy's outbound
// connections leave the pod untouched.
package iptables
