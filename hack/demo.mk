##@ Demo

DEMO_FLAGS ?=

.PHONY: demo
demo: ## Run the demo app as network-namespace pods with real Envoy sidecars, Prometheus and Zipkin, and show metrics, a trace and tap lines (root; DEMO_FLAGS=-hold keeps it up).
	@if [ "$$(id -u)" != 0 ]; then \
	  echo "make demo needs root: it creates network namespaces, a bridge and iptables rules."; \
	  echo "Run it again with: sudo make demo"; exit 1; fi
	@$(MAKE) --no-print-directory system-deps envoy zipkin build
	go build -o $(BIN)/demo ./tests/demo
	$(BIN)/demo $(DEMO_FLAGS)
