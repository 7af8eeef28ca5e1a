##@ Benchmarks

.PHONY: bench
bench: system-deps envoy build ## Measure planeless next to its baselines; writes bench/results/report.{md,json} (BENCH_QUICK=1: short runs). Root needed.
	go run ./bench/cmd/bench -out bench/results

.PHONY: bench-ablation
bench-ablation: system-deps envoy build ## Price the parts of the sidecar: its rendered bootstraps whole and with parts cut, next to envoy-quickly (about 5 minutes). Root needed.
	BENCH_ABLATION=$(CURDIR)/bench/results/ablation.json go test ./bench/dataplane -run 'TestAblation$$' -count=1 -v -timeout 30m
