// Package harness runs injected pods without a kubelet: each "pod" is a
// network namespace joined to a bridge, set up the way the kubelet would
// from the pod object planeless produced (the init container's own command
// run inside it, Envoy started as the proxy UID with exactly the bootstrap
// the pod carries, the test applications started as the app's UID), so
// tests prove the data plane end to end with real iptables and a real
// Envoy. See tests/README.md for the design; every test that needs live
// traffic (data plane, observability, benchmarks) builds on it.
package harness
