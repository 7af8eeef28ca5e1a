package iptables

import (
	"slices"
	"strings"
	"testing"

	"github.com/planeless/planeless/tests/golden"
)

func TestPlanGolden(t *testing.T) {
	for name, c := range configs() {
		t.Run(name, func(t *testing.T) {
			golden.Assert(t, "testdata/"+name+".golden", []byte(Format(Plan(c))))
		})
	}
}

func TestPlanInvariants(t *testing.T) {
	for name, c := range configs() {
		t.Run(name, func(t *testing.T) {
			for _, r := range Plan(c) {
				if r.Table != TableNAT {
					t.Errorf("%s: table %q, want nat", r, r.Table)
				}
				if !strings.Contains(r.String(), "--comment "+CommentPrefix) {
					t.Errorf("%s: no planeless comment", r)
				}
				if !r.own() && !slices.Contains([]string{"PREROUTING", "OUTPUT"}, r.Chain) {
					t.Errorf("%s: rule in a chain planeless does not own", r)
				}
				if !r.own() && !slices.Contains(r.Spec, "tcp") {
					t.Errorf("%s: a jump from a built-in chain must be for TCP only", r)
				}
				for i, s := range r.Spec {
					if s == "--dports" && strings.Count(r.Spec[i+1], ",") >= maxMultiport {
						t.Errorf("%s: more than %d ports in one multiport match", r, maxMultiport)
					}
				}
			}
		})
	}
}

// TestPlanOrder pins the ordering that keeps Envoy from looping: in
// PLANELESS_OUTPUT, Envoy's connections to the application (from its
// inbound source address) return first, Envoy's self-calls go inbound
// before anything else returns,
// the application's local calls return before the proxy-uid return, and
// the catch-all redirect is last.
func TestPlanOrder(t *testing.T) {
	c := configs()["exclusions"]
	var purposes []string
	for _, r := range Plan(c) {
		if r.Family == IPv4 && r.Chain == ChainOutput {
			i := slices.Index(r.Spec, "--comment")
			purposes = append(purposes, strings.TrimPrefix(r.Spec[i+1], CommentPrefix))
		}
	}
	want := []string{
		"outbound-skip-inbound-source",
		"outbound-proxy-self-call",
		"outbound-skip-local",
		"outbound-skip-proxy-uid",
		"outbound-skip-proxy-gid",
		"outbound-skip-loopback",
		"outbound-skip-excluded-ports",
		"outbound-skip-excluded-cidr",
		"outbound-intercept",
	}
	if !slices.Equal(purposes, want) {
		t.Errorf("PLANELESS_OUTPUT purposes:\n got %q\nwant %q", purposes, want)
	}
}

func TestChunks(t *testing.T) {
	tests := map[string]struct {
		n    int
		want []int
	}{
		"no ports":              {0, nil},
		"one port":              {1, []int{1}},
		"exactly fifteen ports": {15, []int{15}},
		"sixteen ports":         {16, []int{15, 1}},
		"forty ports":           {40, []int{15, 15, 10}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ports := make([]uint16, tc.n)
			for i := range ports {
				ports[i] = uint16(1000 + i)
			}
			var sizes []int
			var all []uint16
			for _, c := range chunks(ports) {
				sizes = append(sizes, len(c))
				all = append(all, c...)
			}
			if !slices.Equal(sizes, tc.want) || !slices.Equal(all, ports) {
				t.Errorf("chunks of %d ports: sizes %v, want %v (ports kept in order: %v)", tc.n, sizes, tc.want, slices.Equal(all, ports))
			}
		})
	}
}
