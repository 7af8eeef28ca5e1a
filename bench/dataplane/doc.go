// Package dataplane measures the three data-plane paths of `make bench` on
// the tests/harness network namespaces, on one machine in one run: direct
// (no sidecars), planeless (its sidecars on both ends) and envoy-quickly
// (the original configuration, translated to v3, on the same Envoy). It
// also times start-up: `planeless init`, Envoy's start to ready.
//
// It also prices the parts of the sidecar (ablation.go): the same pods with
// their rendered bootstraps cut, part by part.
//
// It is a test package: `make bench` runs TestBench with BENCH_DATAPLANE
// naming the JSON file to write, `make bench-ablation` TestAblation with
// BENCH_ABLATION; `make test` runs the tests proving that
// the generators send what they count, through the path they name.
package dataplane
