// Package dataplane proves the data plane end to end: pods injected by
// `planeless inject` run on the harness (tests/harness) with real iptables
// and a real Envoy, and traffic between them shows what the sidecars do.
package dataplane
