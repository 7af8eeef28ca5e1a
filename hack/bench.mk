##@ Benchmarks

.PHONY: bench
bench: system-deps envoy build ## Measure planeless next to its baselines; writes bench/results/report.{md,json} (BENCH_QUICK=1: short runs). Root needed.
	go run ./bench/cmd/bench -out bench/results
