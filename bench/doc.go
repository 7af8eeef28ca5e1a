// Package bench owns `make bench`: the cost of planeless measured side by
// side with its baselines in one run (admission, data plane, start-up and
// scale), written to bench/results/report.md and report.json.
//
// The pieces live in sub-packages: workload (the pods every measurement
// uses), load (open- and closed-loop load with latency percentiles),
// admission (the webhook and its baseline under TLS load), dataplane (the
// three data-plane paths in network namespaces, run as a Go test on the
// tests/harness), report (the JSON model and its Markdown rendering) and
// cmd/bench (the driver that runs them all).
package bench
