package iptables

import (
	"context"
	"errors"
	"strings"
	"testing"

	goiptables "github.com/coreos/go-iptables/iptables"
	"github.com/google/go-cmp/cmp"
)

func TestApplyCallOrder(t *testing.T) {
	c := configs()["egress-off"]
	ipt := newFakeTables(goiptables.ProtocolIPv4)
	if err := Apply(t.Context(), ipt, Plan(c)); err != nil {
		t.Fatal(err)
	}
	comment := func(p string) string { return "-m comment --comment planeless/" + p }
	want := []string{
		// The jumps the plan does not contain are removed first; there
		// is none here.
		"ChainExists PLANELESS_INBOUND",
		"ClearChain PLANELESS_INBOUND",
		"ChainExists PLANELESS_IN_REDIRECT",
		"ClearChain PLANELESS_IN_REDIRECT",
		"ChainExists PLANELESS_OUTPUT",
		"ClearChain PLANELESS_OUTPUT",
		"ChainExists PLANELESS_REDIRECT",
		"Append PLANELESS_INBOUND -p tcp -m multiport --dports 15001,15006,15090 " + comment("inbound-skip-proxy-ports") + " -j RETURN",
		"Append PLANELESS_INBOUND -p tcp -m multiport --dports 8080 " + comment("inbound-intercept") + " -j PLANELESS_IN_REDIRECT",
		"Append PLANELESS_IN_REDIRECT -p tcp " + comment("inbound-redirect") + " -j REDIRECT --to-ports 15006",
		"Append PLANELESS_OUTPUT -s 127.0.0.6/32 -o lo " + comment("outbound-skip-inbound-source") + " -j RETURN",
		"Append PLANELESS_OUTPUT ! -d 127.0.0.1/32 -o lo -p tcp -m multiport --dports 8080 -m owner --uid-owner 1337 " + comment("outbound-proxy-self-call") + " -j PLANELESS_IN_REDIRECT",
		"AppendUnique PREROUTING -p tcp " + comment("inbound") + " -j PLANELESS_INBOUND",
		"AppendUnique OUTPUT -p tcp " + comment("outbound") + " -j PLANELESS_OUTPUT",
	}
	if diff := cmp.Diff(want, ipt.calls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

func TestApplyIsIdempotent(t *testing.T) {
	for name, c := range configs() {
		t.Run(name, func(t *testing.T) {
			for _, proto := range []goiptables.Protocol{goiptables.ProtocolIPv4, goiptables.ProtocolIPv6} {
				ipt := newFakeTables(proto)
				if err := Apply(t.Context(), ipt, Plan(c)); err != nil {
					t.Fatal(err)
				}
				first := ipt.save()
				if err := Apply(t.Context(), ipt, Plan(c)); err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(first, ipt.save()); diff != "" {
					t.Errorf("second Apply changed the table (-first +second):\n%s", diff)
				}
			}
		})
	}
}

func TestApplyInstallsOnlyItsFamily(t *testing.T) {
	c := configs()["exclusions"]
	for proto, want := range map[goiptables.Protocol]struct{ has, hasNot string }{
		goiptables.ProtocolIPv4: {"-d 127.0.0.1/32", "::1/128"},
		goiptables.ProtocolIPv6: {"-d ::1/128", "127.0.0.1"},
	} {
		ipt := newFakeTables(proto)
		if err := Apply(t.Context(), ipt, Plan(c)); err != nil {
			t.Fatal(err)
		}
		got := ipt.save()
		if !strings.Contains(got, want.has) || strings.Contains(got, want.hasNot) {
			t.Errorf("protocol %v: want %q and not %q in:\n%s", proto, want.has, want.hasNot, got)
		}
	}
}

// TestApplyReplacesAnEarlierConfig re-runs init with another config, as a
// restarted init container of an edited pod would: the result is what a
// fresh install of the new config gives, with no stale chain or jump.
func TestApplyReplacesAnEarlierConfig(t *testing.T) {
	cs := configs()
	tests := map[string]struct{ before, after string }{
		"egress turned off":             {"default-rest", "egress-off"},
		"egress turned on":              {"egress-off", "default-rest"},
		"every port and egress removed": {"exclusions", "no-ports-no-egress-no-ipv6"},
		"ports added":                   {"no-ports-no-egress-no-ipv6", "many-ports"},
		"exclusions dropped":            {"exclusions", "default-rest"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ipt := newFakeTables(goiptables.ProtocolIPv4)
			if err := Apply(t.Context(), ipt, Plan(cs[tc.before])); err != nil {
				t.Fatal(err)
			}
			if err := Apply(t.Context(), ipt, Plan(cs[tc.after])); err != nil {
				t.Fatal(err)
			}
			fresh := newFakeTables(goiptables.ProtocolIPv4)
			if err := Apply(t.Context(), fresh, Plan(cs[tc.after])); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(fresh.save(), ipt.save()); diff != "" {
				t.Errorf("re-applied table differs from a fresh one (-fresh +re-applied):\n%s", diff)
			}
		})
	}
}

func TestCleanup(t *testing.T) {
	pristine := newFakeTables(goiptables.ProtocolIPv4).save()
	for name, c := range configs() {
		t.Run(name, func(t *testing.T) {
			ipt := newFakeTables(goiptables.ProtocolIPv4)
			ipt.chains["KUBE-SOMETHING"] = []string{"-j RETURN"}
			ipt.chains["OUTPUT"] = []string{"-p udp -j KUBE-SOMETHING"}
			before := ipt.save()
			if err := Apply(t.Context(), ipt, Plan(c)); err != nil {
				t.Fatal(err)
			}
			if err := Cleanup(t.Context(), ipt); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(before, ipt.save()); diff != "" {
				t.Errorf("cleanup left (-before +after):\n%s", diff)
			}
		})
	}
	t.Run("on tables planeless never touched", func(t *testing.T) {
		ipt := newFakeTables(goiptables.ProtocolIPv4)
		if err := Cleanup(t.Context(), ipt); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(pristine, ipt.save()); diff != "" {
			t.Errorf("cleanup changed an untouched table (-before +after):\n%s", diff)
		}
	})
}

func TestApplyKeepsOtherRules(t *testing.T) {
	ipt := newFakeTables(goiptables.ProtocolIPv4)
	ipt.chains["OUTPUT"] = []string{"-p udp --dport 53 -j ACCEPT"}
	if err := Apply(t.Context(), ipt, Plan(configs()["default-rest"])); err != nil {
		t.Fatal(err)
	}
	got := ipt.chains["OUTPUT"]
	want := []string{"-p udp --dport 53 -j ACCEPT", "-p tcp -m comment --comment planeless/outbound -j PLANELESS_OUTPUT"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("OUTPUT (-want +got):\n%s", diff)
	}
}

func TestApplyErrors(t *testing.T) {
	tests := map[string]struct {
		failOn string
		want   string
	}{
		"a chain that cannot be checked": {"ChainExists PLANELESS_OUTPUT", "checking chain PLANELESS_OUTPUT: injected failure"},
		"a chain that cannot be cleared": {"ClearChain PLANELESS_INBOUND", "clearing chain PLANELESS_INBOUND: injected failure"},
		"a rule that cannot be added":    {"Append PLANELESS_REDIRECT", `adding rule "-A PLANELESS_REDIRECT -p tcp`},
		"a jump that cannot be added":    {"AppendUnique OUTPUT", `adding rule "-A OUTPUT -p tcp`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ipt := newFakeTables(goiptables.ProtocolIPv4)
			ipt.failOn = tc.failOn
			err := Apply(t.Context(), ipt, Plan(configs()["default-rest"]))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Apply() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
	t.Run("a cancelled context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		ipt := newFakeTables(goiptables.ProtocolIPv4)
		if err := Apply(ctx, ipt, Plan(configs()["default-rest"])); !errors.Is(err, context.Canceled) {
			t.Errorf("Apply() = %v, want context.Canceled", err)
		}
		if len(ipt.calls) != 0 {
			t.Errorf("Apply touched the tables after cancellation: %q", ipt.calls)
		}
	})
}
