package iptables

import (
	"slices"
	"strings"
	"testing"
)

func TestMissingNamesTheRulesASaveLacks(t *testing.T) {
	c := DefaultConfig()
	c.InboundPorts = []uint16{8080}
	rules := Plan(c)
	full := Format(rules)
	v4 := full[:strings.Index(full, "# ip6tables")]
	tests := map[string]struct {
		save string
		want []string
	}{
		"every rule installed: none missing": {save: v4},
		"nothing installed: all missing":     {save: "*nat\nCOMMIT\n", want: inSaveOrderOf(rules, IPv4)},
		"the outbound jump removed: that one": {
			save: strings.Replace(v4, "-A OUTPUT -p tcp -m comment --comment planeless/outbound -j PLANELESS_OUTPUT\n", "", 1),
			want: []string{"-A OUTPUT -p tcp -m comment --comment planeless/outbound -j PLANELESS_OUTPUT"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := Missing(tc.save, rules, IPv4)
			if !slices.Equal(got, tc.want) {
				t.Errorf("Missing = %q, want %q", got, tc.want)
			}
		})
	}
}

func inSaveOrderOf(rules []Rule, f Family) []string {
	var out []string
	for _, r := range rules {
		if r.Family == f {
			out = append(out, r.String())
		}
	}
	return out
}
