// Command demo is `make demo`: it injects the demo app (tests/demo/demo.yaml)
// with `planeless inject`, runs it as network-namespace pods with real Envoy
// sidecars and real iptables (tests/harness), drives traffic for a while,
// and shows what planeless gives: the injected pod, Prometheus queries for
// per-workload and per-destination golden signals, and access log lines.
// It cleans up after itself, also when interrupted. It needs root.
package main
