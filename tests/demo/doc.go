// Command demo is `make demo`: it injects the demo app (tests/demo/demo.yaml)
// with `planeless inject`, runs it as network-namespace pods with real Envoy
// sidecars and real iptables (tests/harness), next to a real Prometheus and
// a real Zipkin, drives traffic for a while, and shows what planeless
// gives: the injected pod, Prometheus queries for per-workload and
// per-destination golden signals, access log lines, one trace of users →
// web → orders from Zipkin's API, and the `planeless tap` view of the
// sidecars' logs (the tap package's own parser, pairing, filter and table,
// reading the sidecars' stdout files since there is no pod-log API here).
// It cleans up after itself, also when interrupted. It needs root.
package main
