# The parts of a real Kubernetes node that hack/kube.mk does not build:
# containerd (+ ctr + the runc shim), runc with seccomp, Debian's CNI plugins
# and CoreDNS, pinned here and cached in .tools/ under their version, so a
# second `make` does nothing and a version bump builds anew. Also `make
# cluster` / `make cluster-down`. Included by the Makefile.

CONTAINERD_VERSION := v2.4.2
RUNC_VERSION       := v1.4.4
COREDNS_VERSION    := v1.12.4
# Prometheus v3.16.0 (its Go module is numbered v0.316.0). Debian's package
# is built without Kubernetes service discovery, which the node's tests use.
PROMETHEUS_VERSION := v0.316.0

CONTAINERD_DIR := $(TOOLS)/containerd/$(CONTAINERD_VERSION)
RUNC_DIR       := $(TOOLS)/runc/$(RUNC_VERSION)
COREDNS_DIR    := $(TOOLS)/coredns/$(COREDNS_VERSION)
PROMETHEUS_DIR := $(TOOLS)/prometheus/$(PROMETHEUS_VERSION)

# Where tests/node finds them (whatever the versions).
export PLANELESS_CONTAINERD_DIR := $(CONTAINERD_DIR)
export PLANELESS_RUNC           := $(RUNC_DIR)/runc
export PLANELESS_COREDNS        := $(COREDNS_DIR)/coredns
export PLANELESS_PROMETHEUS_K8S := $(PROMETHEUS_DIR)/prometheus
export PLANELESS_CNI_DIR        := /usr/lib/cni

# Debian packages the node needs: the CNI plugins, runc's seccomp library
# (cgo, found by pkg-config), conntrack for kube-proxy, mmdebstrap for the
# Debian root of the planeless image (tests/node/images).
NODE_DEBS := containernetworking-plugins libseccomp-dev pkg-config conntrack mmdebstrap

##@ Kubernetes node

.PHONY: node-tools
node-tools: node-deps kube-tools $(CONTAINERD_DIR)/.built $(RUNC_DIR)/runc $(COREDNS_DIR)/coredns $(PROMETHEUS_DIR)/prometheus ## Build containerd, runc, CoreDNS and a Prometheus with Kubernetes discovery into .tools/, install Debian's CNI plugins (once).

tools: node-tools

.PHONY: node-deps
node-deps: ## Install the Debian packages the node needs (CNI plugins, libseccomp-dev, pkg-config, conntrack, mmdebstrap).
	@missing=""; for p in $(NODE_DEBS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "missing Debian packages:$$missing (run as root, or apt-get install them)"; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi

# Each build runs under a lock in its versioned folder, so that checkouts
# sharing .tools/ (git worktrees) build once: the second finds the result.
NODE_LOCK       = mkdir -p $(@D) && exec 9>$(@D)/.lock && flock 9 && if [ -e $@ ]; then exit 0; fi
NODE_GO_INSTALL := CGO_ENABLED=0 go install -trimpath -ldflags '-s -w'

$(CONTAINERD_DIR)/.built:
	$(NODE_LOCK); \
	GOBIN=$(@D) $(NODE_GO_INSTALL) -tags "no_btrfs no_devmapper no_zfs" \
	  $(foreach c,containerd ctr containerd-shim-runc-v2,github.com/containerd/containerd/v2/cmd/$(c)@$(CONTAINERD_VERSION)); \
	$(@D)/containerd --version; touch $@

# seccomp needs cgo and libseccomp (node-deps).
$(RUNC_DIR)/runc: | node-deps
	$(NODE_LOCK); \
	GOBIN=$(@D)/.build CGO_ENABLED=1 go install -trimpath -tags seccomp \
	  -ldflags '-s -w -X main.version=$(patsubst v%,%,$(RUNC_VERSION))' \
	  github.com/opencontainers/runc@$(RUNC_VERSION); \
	mv $(@D)/.build/runc $@; rmdir $(@D)/.build; $@ --version

$(COREDNS_DIR)/coredns:
	$(NODE_LOCK); \
	GOBIN=$(@D)/.build $(NODE_GO_INSTALL) github.com/coredns/coredns@$(COREDNS_VERSION); \
	mv $(@D)/.build/coredns $@; rmdir $(@D)/.build; $@ -version

# Only the Kubernetes service discovery (the build tags of its plugins/).
$(PROMETHEUS_DIR)/prometheus:
	$(NODE_LOCK); \
	GOBIN=$(@D)/.build $(NODE_GO_INSTALL) -tags "remove_all_sd enable_kubernetes_sd" \
	  github.com/prometheus/prometheus/cmd/prometheus@$(PROMETHEUS_VERSION); \
	mv $(@D)/.build/prometheus $@; rmdir $(@D)/.build; $@ --version

##@ Cluster

.PHONY: cluster
cluster: system-deps envoy node-tools ## Start a real one-node Kubernetes cluster here (root), install planeless with its Helm chart, print a kubeconfig.
	@if [ "$$(id -u)" != 0 ]; then echo "make cluster needs root (namespaces, mounts, cgroups): run it again with sudo"; exit 1; fi
	go run ./tests/node/cmd/cluster up

.PHONY: cluster-down
cluster-down: ## Remove the cluster of make cluster: processes, namespaces, mounts, cgroups, files.
	@if [ "$$(id -u)" != 0 ]; then echo "make cluster-down needs root: run it again with sudo"; exit 1; fi
	go run ./tests/node/cmd/cluster down
