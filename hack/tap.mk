# planeless tap as a kubectl plugin. For `kubectl planeless ...` kubectl runs
# the first executable named kubectl-planeless on PATH, with the remaining
# arguments; the binary then calls itself "kubectl planeless" in its help.
# Included by the Makefile.

KUBECTL_PLUGIN_DIR ?= $(HOME)/.local/bin

##@ kubectl plugin

.PHONY: install-kubectl-plugin
install-kubectl-plugin: build ## Install bin/planeless as kubectl-planeless in KUBECTL_PLUGIN_DIR (~/.local/bin): `kubectl planeless tap`.
	install -d $(KUBECTL_PLUGIN_DIR)
	install -m 0755 $(BIN)/planeless $(KUBECTL_PLUGIN_DIR)/kubectl-planeless
	@case ":$$PATH:" in *":$(KUBECTL_PLUGIN_DIR):"*) ;; \
	  *) echo "note: $(KUBECTL_PLUGIN_DIR) is not on PATH; add it so that kubectl finds kubectl-planeless" ;; esac
