package iptables

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/planeless/planeless/tests/need"
)

// TestAutoInANetworkNamespace runs the real `planeless init --backend=auto`
// in network namespaces: it picks the variant that already has rules,
// says which, installs both families through it alone, changes nothing
// when run again, and repairs a partial install.
func TestAutoInANetworkNamespace(t *testing.T) {
	need.Root(t)
	need.Command(t, "ip", "apt-get install iproute2")
	for _, b := range []Backend{BackendNFT, BackendLegacy} {
		for _, f := range []Family{IPv4, IPv6} {
			need.Command(t, commandFor(f)+"-"+string(b)+"-restore", "apt-get install iptables")
		}
	}
	bin := buildPlanelessPod(t)
	c := DefaultConfig()
	c.InboundPorts = []uint16{8080}

	for name, tc := range map[string]struct {
		legacyRule bool
		want, not  Backend
	}{
		"with no rules anywhere, auto installs through nft":       {legacyRule: false, want: BackendNFT, not: BackendLegacy},
		"with rules in legacy only, auto installs through legacy": {legacyRule: true, want: BackendLegacy, not: BackendNFT},
	} {
		t.Run(name, func(t *testing.T) {
			p := newTestPod(t)
			if tc.legacyRule {
				run(t, "ip", "netns", "exec", p.pod, "iptables-legacy", "-t", "nat", "-A", "OUTPUT", "-p", "udp", "-j", "ACCEPT")
			}
			initAuto := func() string {
				t.Helper()
				cmd := exec.CommandContext(t.Context(), "ip", append([]string{"netns", "exec", p.pod, bin, "init", "--backend=auto"}, c.Args()...)...)
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Fatalf("planeless init: %v\n%s", err, out)
				}
				return string(out)
			}
			saves := func() map[Family]string {
				t.Helper()
				s := map[Family]string{}
				for _, f := range []Family{IPv4, IPv6} {
					s[f] = p.save(t, tc.want, f)
				}
				return s
			}

			out := initAuto()
			if want := fmt.Sprintf("installed planeless iptables rules (%s,", tc.want); !strings.Contains(out, want) {
				t.Errorf("init printed %q, want it to say %q", out, want)
			}
			first := saves()
			for _, f := range []Family{IPv4, IPv6} {
				if diff := cmp.Diff(inSaveOrder(Plan(c), f), withoutOthers(installedRules(first[f]))); diff != "" {
					t.Errorf("%s %s: installed rules differ from the plan (-plan +installed):\n%s", tc.want, f, diff)
				}
				// The other variant may not even have a nat table.
				other, _ := runErr(t.Context(), "ip", "netns", "exec", p.pod, commandFor(f)+"-"+string(tc.not)+"-save")
				if strings.Contains(other, "PLANELESS") {
					t.Errorf("%s %s has planeless rules too:\n%s", tc.not, f, other)
				}
			}

			t.Run("running init twice leaves identical iptables-save output", func(t *testing.T) {
				initAuto()
				if diff := cmp.Diff(first, saves()); diff != "" {
					t.Errorf("second run changed the tables (-first +second):\n%s", diff)
				}
			})

			t.Run("a partial install is repaired", func(t *testing.T) {
				ipt := func(f Family, args ...string) {
					run(t, "ip", append([]string{"netns", "exec", p.pod, commandFor(f) + "-" + string(tc.want), "-t", "nat"}, args...)...)
				}
				// IPv4 lost its outbound jump and a chain's rules; IPv6
				// lost everything but one chain, as if its restore never ran.
				ipt(IPv4, "-D", "OUTPUT", "-p", "tcp", "-m", "comment", "--comment", "planeless/outbound", "-j", "PLANELESS_OUTPUT")
				ipt(IPv4, "-F", "PLANELESS_INBOUND")
				ipt(IPv6, "-D", "OUTPUT", "-p", "tcp", "-m", "comment", "--comment", "planeless/outbound", "-j", "PLANELESS_OUTPUT")
				ipt(IPv6, "-D", "PREROUTING", "-p", "tcp", "-m", "comment", "--comment", "planeless/inbound", "-j", "PLANELESS_INBOUND")
				for _, chain := range []string{"PLANELESS_INBOUND", "PLANELESS_IN_REDIRECT", "PLANELESS_OUTPUT"} {
					ipt(IPv6, "-F", chain)
				}
				for _, chain := range []string{"PLANELESS_INBOUND", "PLANELESS_OUTPUT"} {
					ipt(IPv6, "-X", chain)
				}
				if diff := cmp.Diff(first, saves()); diff == "" {
					t.Fatal("breaking the install changed nothing")
				}
				initAuto()
				if diff := cmp.Diff(first, saves()); diff != "" {
					t.Errorf("a re-run after a partial install differs from the first (-first +re-run):\n%s", diff)
				}
			})
		})
	}
}

// withoutOthers drops the rule the test put there itself.
func withoutOthers(rules []string) []string {
	var own []string
	for _, r := range rules {
		if strings.Contains(r, "PLANELESS") {
			own = append(own, r)
		}
	}
	return own
}

// TestInstallFromALockedThreadInANetworkNamespace calls Install in process
// on an OS thread that entered a network namespace, as the CNI plugin
// does (ns.WithNetNSPath): the processes it runs at once all run there,
// and the host's tables are left as they were.
func TestInstallFromALockedThreadInANetworkNamespace(t *testing.T) {
	need.Root(t)
	need.Command(t, "ip", "apt-get install iproute2")
	need.Command(t, "iptables-nft-restore", "apt-get install iptables")
	hostRules := func() int {
		n := 0
		for _, save := range []string{"iptables-nft-save", "ip6tables-nft-save", "iptables-legacy-save", "ip6tables-legacy-save"} {
			out, _ := runErr(t.Context(), save)
			n += strings.Count(out, "PLANELESS")
		}
		return n
	}
	before := hostRules()
	p := newTestPod(t)
	c := DefaultConfig()
	c.InboundPorts = []uint16{8080}
	for _, backend := range []Backend{BackendAuto, BackendNFT} {
		err := inNetns(p.pod, func() error {
			_, err := Install(t.Context(), backend, c)
			return err
		})
		if err != nil {
			t.Fatalf("Install(%s): %v", backend, err)
		}
		for _, f := range []Family{IPv4, IPv6} {
			if diff := cmp.Diff(inSaveOrder(Plan(c), f), installedRules(p.save(t, BackendNFT, f))); diff != "" {
				t.Errorf("%s, %s: rules in the namespace differ from the plan (-plan +installed):\n%s", backend, f, diff)
			}
		}
	}
	if after := hostRules(); after != before {
		t.Errorf("the host's tables mention PLANELESS %d times after Install, %d before", after, before)
	}
}
