# Real Kubernetes parts for the tests: kube-apiserver, etcd and kubectl built
# from source at pinned versions, and helm. Included by the Makefile.
#
# The versions are written once, in the tools modules under hack/tools/: each
# binary is a file target that depends on its module's go.mod and go.sum, so
# a second `make` does nothing and a version bump rebuilds.

KUBE_VERSION := $(shell sed -n 's|^[[:space:]]*k8s.io/kubernetes v\([^ ]*\).*|\1|p' hack/tools/kube/go.mod)
HELM_VERSION := v3.22.0

# envtest's layout: kube-apiserver, etcd and kubectl side by side.
KUBE_ASSETS := $(TOOLS)/k8s/$(KUBE_VERSION)
HELM        := $(TOOLS)/helm/$(HELM_VERSION)/helm

export KUBEBUILDER_ASSETS := $(KUBE_ASSETS)
export PLANELESS_HELM     := $(HELM)

# Static, reproducible builds: no cgo, no paths of this machine in the binary.
KUBE_GO_BUILD := CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath
KUBE_LDFLAGS  := -s -w \
	-X k8s.io/component-base/version.gitVersion=v$(KUBE_VERSION) \
	-X k8s.io/component-base/version.gitMajor=$(word 1,$(subst ., ,$(KUBE_VERSION))) \
	-X k8s.io/component-base/version.gitMinor=$(word 2,$(subst ., ,$(KUBE_VERSION))) \
	-X k8s.io/component-base/version.gitTreeState=clean \
	-X k8s.io/client-go/pkg/version.gitVersion=v$(KUBE_VERSION) \
	-X k8s.io/client-go/pkg/version.gitMajor=$(word 1,$(subst ., ,$(KUBE_VERSION))) \
	-X k8s.io/client-go/pkg/version.gitMinor=$(word 2,$(subst ., ,$(KUBE_VERSION)))

# helm renders and lints for the Kubernetes version it was built for (its
# Makefile sets it; `go install` leaves the 1.20 fallback): use ours.
HELM_KUBE_LDFLAGS := $(foreach p,pkg/lint/rules pkg/chartutil,\
	-X helm.sh/helm/v3/$(p).k8sVersionMajor=$(word 1,$(subst ., ,$(KUBE_VERSION))) \
	-X helm.sh/helm/v3/$(p).k8sVersionMinor=$(word 2,$(subst ., ,$(KUBE_VERSION))))

##@ Kubernetes tools

# Every Kubernetes binary the tests run, built in ONE `go build` so the
# packages they share compile once (~7 min on 2 cores from an empty cache,
# instead of ~20 one by one).
KUBE_BINARIES := kube-apiserver kube-controller-manager kube-scheduler kube-proxy kubelet kubectl
KUBE_STAMP    := $(KUBE_ASSETS)/.built

.PHONY: kube-tools
kube-tools: $(KUBE_STAMP) $(KUBE_ASSETS)/etcd $(HELM) ## Build the Kubernetes binaries, etcd and helm into .tools/ (once; ~10 min on 2 cores).

# Under a lock, so that two checkouts sharing .tools/ (git worktrees) build
# once: the second waits and finds the stamp.
$(KUBE_STAMP): hack/tools/kube/go.mod hack/tools/kube/go.sum
	mkdir -p $(KUBE_ASSETS)
	flock $(KUBE_ASSETS)/.lock $(MAKE) --no-print-directory kube-binaries

.PHONY: kube-binaries
kube-binaries:
	@if [ -e $(KUBE_STAMP) ] && [ $(KUBE_STAMP) -nt hack/tools/kube/go.sum ] && [ $(KUBE_STAMP) -nt hack/tools/kube/go.mod ]; then exit 0; fi; \
	rm -rf $(KUBE_ASSETS)/.build; mkdir -p $(KUBE_ASSETS)/.build; \
	cd hack/tools/kube && $(KUBE_GO_BUILD) -ldflags '$(KUBE_LDFLAGS)' -o $(KUBE_ASSETS)/.build/ \
	  $(addprefix k8s.io/kubernetes/cmd/,$(KUBE_BINARIES)); \
	mv $(KUBE_ASSETS)/.build/* $(KUBE_ASSETS)/; rmdir $(KUBE_ASSETS)/.build; \
	$(KUBE_ASSETS)/kube-apiserver --version; touch $(KUBE_STAMP)

$(KUBE_ASSETS)/etcd: hack/tools/etcd/go.mod hack/tools/etcd/go.sum
	cd hack/tools/etcd && $(KUBE_GO_BUILD) -ldflags '-s -w' -o $@.tmp go.etcd.io/etcd/server/v3
	mv $@.tmp $@
	$@ --version

# Rebuilt when the Kubernetes version it renders for changes.
$(HELM): hack/tools/kube/go.mod
	GOBIN=$(@D) CGO_ENABLED=0 go install -trimpath \
	  -ldflags '-s -w -X helm.sh/helm/v3/internal/version.version=$(HELM_VERSION) $(HELM_KUBE_LDFLAGS)' \
	  helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)
	mkdir -p $(TOOLS)/bin
	ln -sf $@ $(TOOLS)/bin/helm
	$@ version
