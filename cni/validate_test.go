package cni

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/planeless/planeless/tests/harness"
	"github.com/planeless/planeless/tests/need"
)

// netnsPod is a network namespace with an address and a default route, as
// a pod has, whose gateway answers nothing, and an IPv6 address without
// one.
func netnsPod(t *testing.T) string {
	t.Helper()
	name := fmt.Sprintf("pln-validate-%d", os.Getpid())
	host, peer := fmt.Sprintf("plnv%dh", os.Getpid()%100000), fmt.Sprintf("plnv%dp", os.Getpid()%100000)
	steps := [][]string{
		{"ip", "netns", "add", name},
		{"ip", "-n", name, "link", "set", "lo", "up"},
		{"ip", "link", "add", host, "type", "veth", "peer", "name", peer, "netns", name},
		{"ip", "-n", name, "addr", "add", "10.233.0.2/24", "dev", peer},
		// An IPv6 address without a default route, as pods of an IPv4
		// cluster may have: no IPv6 traffic leaves, nothing to check.
		{"ip", "-n", name, "addr", "add", "fd00:233::2/64", "dev", peer, "nodad"},
		{"ip", "-n", name, "link", "set", peer, "up"},
		{"ip", "-n", name, "route", "add", "default", "via", "10.233.0.1"},
		{"ip", "link", "set", host, "up"},
	}
	t.Cleanup(func() {
		_ = exec.Command("ip", "netns", "del", name).Run()
		_ = exec.Command("ip", "link", "del", host).Run()
	})
	for _, s := range steps {
		if out, err := exec.CommandContext(t.Context(), s[0], s[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", s, err, out)
		}
	}
	return name
}

// runAs runs the planeless binary in the namespace as uid:gid.
func runAs(ctx context.Context, bin, netns string, uid int, args ...string) (string, error) {
	id := fmt.Sprint(uid)
	argv := append([]string{"netns", "exec", netns, "setpriv", "--reuid", id, "--regid", id, "--clear-groups", bin}, args...)
	out, err := exec.CommandContext(ctx, "ip", argv...).CombinedOutput()
	return string(out), err
}

// The check fails, naming CNI mode and the agent, while the pod has no
// rules, and passes once they are there: outbound as a user the rules
// redirect, inbound as the proxy when egress is not captured.
func TestValidateFailsUntilTheRulesAreThere(t *testing.T) {
	need.Root(t)
	for _, c := range []string{"ip", "setpriv", "iptables-nft-save"} {
		need.Command(t, c, "apt-get install iproute2 util-linux iptables")
	}
	bin := harness.Planeless(t)
	netns := netnsPod(t)
	flags := []string{"--inbound-ports=8080", "--ipv6=false"}
	checks := map[string]struct {
		uid   int
		flags []string
		want  string
	}{
		"outbound, as nobody":          {uid: 65534, flags: flags, want: "outbound redirection in place: a connection to 192.0.2.1:20001 reached port 15001"},
		"inbound, as the proxy's user": {uid: 1337, flags: append(flags, "--egress=false"), want: "inbound redirection in place: a connection to 10.233.0.2:8080 reached port 15006"},
		"IPv6 too, which has no route": {uid: 65534, flags: []string{"--inbound-ports=8080"}, want: "no route to 2001:db8::1: nothing of its family to redirect"},
	}
	for name, c := range checks {
		t.Run("without rules: "+name, func(t *testing.T) {
			out, err := runAs(t.Context(), bin, netns, c.uid, append([]string{"validate"}, c.flags...)...)
			if err == nil || !strings.Contains(out, "is not redirected to its proxy") || !strings.Contains(out, "CNI mode") || !strings.Contains(out, "agent") {
				t.Errorf("validate without rules: %v\n%s", err, out)
			}
		})
	}
	if out, err := exec.CommandContext(t.Context(), "ip", append([]string{"netns", "exec", netns, bin, "init"}, flags...)...).CombinedOutput(); err != nil {
		t.Fatalf("planeless init: %v\n%s", err, out)
	}
	for name, c := range checks {
		t.Run("with rules: "+name, func(t *testing.T) {
			out, err := runAs(t.Context(), bin, netns, c.uid, append([]string{"validate"}, c.flags...)...)
			if err != nil || !strings.Contains(out, c.want) {
				t.Errorf("validate with the rules: %v\n%s\nwant %q", err, out, c.want)
			}
		})
	}
	t.Run("a pod excluding every address the check dials passes, saying so", func(t *testing.T) {
		out, err := runAs(t.Context(), bin, netns, 65534, "validate", "--ipv6=false", "--exclude-outbound-cidrs=0.0.0.0/0")
		if err != nil || !strings.Contains(out, "no address the check dials is captured") {
			t.Errorf("validate: %v\n%s", err, out)
		}
	})
	t.Run("egress checked as the proxy's user is refused", func(t *testing.T) {
		out, err := runAs(t.Context(), bin, netns, 1337, append([]string{"validate"}, flags...)...)
		if err == nil || !strings.Contains(out, "needs a user and group other than the proxy's") {
			t.Errorf("validate as the proxy: %v\n%s", err, out)
		}
	})
}
