package iptables

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/planeless/planeless/tests/need"
)

func lines(s string) []string { return strings.Split(strings.TrimSpace(s), "\n") }

func TestRestoreInput(t *testing.T) {
	rest := Plan(configs()["default-rest"])
	v4 := slices.DeleteFunc(slices.Clone(rest), func(r Rule) bool { return r.Family != IPv4 })
	var ruleLines []string
	for _, r := range v4 {
		ruleLines = append(ruleLines, r.String())
	}
	saved := func(extra ...string) string {
		return strings.Join(append([]string{"*nat", ":PREROUTING ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]"}, append(extra, "COMMIT")...), "\n")
	}
	tests := map[string]struct {
		current string
		rules   []Rule
		want    []string
	}{
		"a fresh table gets the chains, the rules and the jumps": {
			current: saved(),
			rules:   rest,
			want: slices.Concat([]string{"*nat", ":PLANELESS_INBOUND - [0:0]", ":PLANELESS_IN_REDIRECT - [0:0]", ":PLANELESS_OUTPUT - [0:0]", ":PLANELESS_REDIRECT - [0:0]"},
				ruleLines, []string{"COMMIT"}),
		},
		"a second run refills the chains and keeps the jumps it finds": {
			current: saved(":PLANELESS_INBOUND - [0:0]", ":PLANELESS_IN_REDIRECT - [0:0]", ":PLANELESS_OUTPUT - [0:0]", ":PLANELESS_REDIRECT - [0:0]", ruleLines[len(ruleLines)-2], ruleLines[len(ruleLines)-1]),
			rules:   rest,
			want: slices.Concat([]string{"*nat", ":PLANELESS_INBOUND - [0:0]", ":PLANELESS_IN_REDIRECT - [0:0]", ":PLANELESS_OUTPUT - [0:0]", ":PLANELESS_REDIRECT - [0:0]"},
				ruleLines[:len(ruleLines)-2], []string{"COMMIT"}),
		},
		"cleanup flushes and deletes the chains after the jumps into them, even an older version's": {
			current: saved(":PLANELESS_OUTPUT - [0:0]", ":KUBE-SERVICES - [0:0]", "-A OUTPUT -p tcp -m comment --comment old -j PLANELESS_OUTPUT", "-A OUTPUT -j KUBE-SERVICES"),
			rules:   nil,
			want:    []string{"*nat", ":PLANELESS_OUTPUT - [0:0]", "-D OUTPUT -p tcp -m comment --comment old -j PLANELESS_OUTPUT", "-X PLANELESS_OUTPUT", "COMMIT"},
		},
		"another family's rules are left to the other family's restore": {
			current: saved(),
			rules:   slices.DeleteFunc(slices.Clone(rest), func(r Rule) bool { return r.Family == IPv4 }),
			want:    []string{"*nat", "COMMIT"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, lines(RestoreInput(tc.current, tc.rules, IPv4))); diff != "" {
				t.Errorf("restore input (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRestoreInANetworkNamespace runs the real `planeless-pod init` in fresh
// network namespaces, with both iptables variants: a second run changes
// nothing, a run with another config gives what a fresh install of it
// gives, and --cleanup gives back the tables as they were, other rules
// included.
func TestRestoreInANetworkNamespace(t *testing.T) {
	need.Root(t)
	need.Command(t, "ip", "apt-get install iproute2")
	bin := buildPlanelessPod(t)
	cs := configs()
	for _, backend := range []Backend{BackendNFT, BackendLegacy} {
		t.Run(string(backend), func(t *testing.T) {
			for _, f := range []Family{IPv4, IPv6} {
				need.Command(t, commandFor(f)+"-"+string(backend)+"-restore", "apt-get install iptables")
			}
			save := func(ns string) string {
				var b strings.Builder
				for _, f := range []Family{IPv4, IPv6} {
					for _, l := range lines(run(t, "ip", "netns", "exec", ns, commandFor(f)+"-"+string(backend)+"-save", "-t", "nat")) {
						if !strings.HasPrefix(l, "#") {
							b.WriteString(l + "\n")
						}
					}
				}
				return b.String()
			}
			initIn := func(ns string, args ...string) {
				run(t, "ip", append([]string{"netns", "exec", ns, bin, "init", "--backend=" + string(backend)}, args...)...)
			}
			t.Run("a second run changes nothing", func(t *testing.T) {
				p := newTestPod(t)
				initIn(p.pod, cs["exclusions"].Args()...)
				first := save(p.pod)
				initIn(p.pod, cs["exclusions"].Args()...)
				if diff := cmp.Diff(first, save(p.pod)); diff != "" {
					t.Errorf("second run changed the tables (-first +second):\n%s", diff)
				}
			})
			for name, change := range map[string][2]string{
				"egress turned off":             {"default-rest", "egress-off"},
				"every port and egress removed": {"exclusions", "no-ports-no-egress-no-ipv6"},
				"ports and probes added":        {"no-ports-no-egress-no-ipv6", "tcp-probes"},
			} {
				t.Run("a run with another config: "+name, func(t *testing.T) {
					p, fresh := newTestPod(t), newTestPod(t)
					initIn(p.pod, cs[change[0]].Args()...)
					initIn(p.pod, cs[change[1]].Args()...)
					initIn(fresh.pod, cs[change[1]].Args()...)
					if diff := cmp.Diff(save(fresh.pod), save(p.pod)); diff != "" {
						t.Errorf("re-run tables differ from a fresh install (-fresh +re-run):\n%s", diff)
					}
				})
			}
			t.Run("cleanup gives back the tables as they were, other rules included", func(t *testing.T) {
				p := newTestPod(t)
				for _, f := range []Family{IPv4, IPv6} {
					ipt := commandFor(f) + "-" + string(backend)
					run(t, "ip", "netns", "exec", p.pod, ipt, "-t", "nat", "-N", "KUBE-SOMETHING")
					run(t, "ip", "netns", "exec", p.pod, ipt, "-t", "nat", "-A", "OUTPUT", "-p", "udp", "-j", "KUBE-SOMETHING")
				}
				before := save(p.pod)
				initIn(p.pod, cs["exclusions"].Args()...)
				if strings.Count(save(p.pod), "PLANELESS_") < 10 {
					t.Fatalf("init installed nothing:\n%s", save(p.pod))
				}
				initIn(p.pod, "--cleanup")
				if diff := cmp.Diff(before, save(p.pod)); diff != "" {
					t.Errorf("cleanup left (-before +after):\n%s", diff)
				}
			})
		})
	}
}

func TestNatTable(t *testing.T) {
	tests := map[string]struct {
		save string
		want string
	}{
		"a save of every table gives its nat table only": {
			save: "# Generated by iptables-nft-save\n*filter\n:PLANELESS_OUTPUT - [0:0]\n-A OUTPUT -j PLANELESS_OUTPUT\nCOMMIT\n# Completed\n" +
				"# Generated by iptables-nft-save\n*nat\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -p tcp -j PLANELESS_OUTPUT\nCOMMIT\n# Completed\n" +
				"*mangle\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n",
			want: "*nat\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -p tcp -j PLANELESS_OUTPUT\nCOMMIT\n",
		},
		"a save without a nat table gives nothing": {
			save: "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\nCOMMIT\n",
			want: "",
		},
		"nothing saved gives nothing": {save: "", want: ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, natTable(tc.save)); diff != "" {
				t.Errorf("nat table (-want +got):\n%s", diff)
			}
		})
	}
}
