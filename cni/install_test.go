package cni

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/planeless/planeless/iptables"
	"github.com/planeless/planeless/tests/need"
)

// The plugin's install and verify work in the pod's network namespace,
// named by path as the runtime names it, and leave the plugin's own alone.
func TestInstallPutsThePlanInThePodsNamespace(t *testing.T) {
	need.Root(t)
	for _, c := range []string{"ip", "iptables-nft-save", "iptables-nft-restore"} {
		need.Command(t, c, "apt-get install iproute2 iptables")
	}
	netns := netnsPod(t)
	c := iptables.DefaultConfig()
	c.InboundPorts = []uint16{8080}
	if err := verify(t.Context(), "/run/netns/"+netns, c); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("verify before install: %v, want the rules missing", err)
	}
	if err := install(t.Context(), "/run/netns/"+netns, c); err != nil {
		t.Fatal(err)
	}
	if err := verify(t.Context(), "/run/netns/"+netns, c); err != nil {
		t.Errorf("verify after install: %v", err)
	}
	out, err := exec.CommandContext(t.Context(), "ip", "netns", "exec", netns, "iptables-nft-save", "-t", "nat").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "planeless/outbound-redirect") {
		t.Errorf("the pod's namespace lacks the rules: %v\n%s", err, out)
	}
	if own, _ := exec.CommandContext(t.Context(), "iptables-nft-save", "-t", "nat").CombinedOutput(); strings.Contains(string(own), "planeless/") {
		t.Errorf("the plugin's own namespace got planeless rules:\n%s", own)
	}
}
