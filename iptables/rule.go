package iptables

import (
	"slices"
	"strconv"
	"strings"
)

// Family is the IP version a rule is installed for.
type Family string

const (
	IPv4 Family = "ipv4"
	IPv6 Family = "ipv6"
)

// TableNAT is the only table planeless touches.
const TableNAT = "nat"

// The chains planeless owns, all in the nat table.
const (
	// ChainInbound sees every inbound TCP connection (from PREROUTING).
	ChainInbound = "PLANELESS_INBOUND"
	// ChainInRedirect sends a connection to the inbound listener.
	ChainInRedirect = "PLANELESS_IN_REDIRECT"
	// ChainOutput sees every outbound TCP connection (from OUTPUT).
	ChainOutput = "PLANELESS_OUTPUT"
	// ChainRedirect sends a connection to the outbound listener.
	ChainRedirect = "PLANELESS_REDIRECT"
)

// OwnChains lists planeless's chains in the order they are flushed.
var OwnChains = []string{ChainInbound, ChainInRedirect, ChainOutput, ChainRedirect}

// CommentPrefix starts the comment on every planeless rule.
const CommentPrefix = "planeless/"

// Rule is one rule to append: iptables -t <Table> -A <Chain> <Spec...>.
type Rule struct {
	Family Family
	Table  string
	Chain  string
	Spec   []string
}

// own reports whether the rule sits in one of planeless's chains (as
// opposed to a jump from a built-in chain).
func (r Rule) own() bool { return slices.Contains(OwnChains, r.Chain) }

// String is the rule as iptables-save shows it (without the table).
func (r Rule) String() string {
	parts := make([]string, 0, len(r.Spec)+2)
	parts = append(parts, "-A", r.Chain)
	for _, s := range r.Spec {
		if s == "" || strings.ContainsAny(s, " \t\"'") {
			s = strconv.Quote(s)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

// Format writes rules like iptables-save, one block per family and table,
// declaring the chains planeless owns. It is what `planeless init --dry-run`
// prints.
func Format(rules []Rule) string {
	var b strings.Builder
	for _, f := range []Family{IPv4, IPv6} {
		for _, table := range []string{TableNAT} {
			block := slices.DeleteFunc(slices.Clone(rules), func(r Rule) bool { return r.Family != f || r.Table != table })
			if len(block) == 0 {
				continue
			}
			b.WriteString("# " + commandFor(f) + "\n*" + table + "\n")
			var chains []string
			for _, r := range block {
				if r.own() && !slices.Contains(chains, r.Chain) {
					chains = append(chains, r.Chain)
				}
			}
			slices.Sort(chains)
			for _, c := range chains {
				b.WriteString(":" + c + " - [0:0]\n")
			}
			for _, r := range block {
				b.WriteString(r.String() + "\n")
			}
			b.WriteString("COMMIT\n")
		}
	}
	return b.String()
}

func commandFor(f Family) string {
	if f == IPv6 {
		return "ip6tables"
	}
	return "iptables"
}
