package bootstrap_test

import (
	"strconv"
	"testing"

	xdsmatcherv3 "github.com/cncf/xds/go/xds/type/matcher/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// connection is what the inbound listener knows of a connection when it
// picks a chain: the original destination port and what the HTTP
// inspector saw (empty when it did not run or saw no HTTP).
type connection struct {
	port     uint32
	protocol string // as the HTTP inspector reports it: http/1.1, h2c
}

// chainFor is the name of the filter chain l gives c, "" for none (the
// connection is closed), evaluated as Envoy does (the first listener filter
// not disabled for the port runs; the filter chain matcher names the
// chain), for the parts of the matcher API the bootstrap uses: exact match
// maps and matcher lists of single, or and not predicates on the
// destination port and the application protocol.
func chainFor(t *testing.T, l *listenerv3.Listener, c connection) string {
	t.Helper()
	sniffed := ""
	for _, f := range l.GetListenerFilters() {
		if f.GetName() == "envoy.filters.listener.http_inspector" && !predicateMatches(t, f.GetFilterDisabled(), c.port) {
			sniffed = c.protocol
		}
	}
	input := func(name string) string {
		switch name {
		case "envoy.matching.inputs.destination_port":
			return strconv.Itoa(int(c.port))
		case "envoy.matching.inputs.application_protocol":
			if sniffed == "" {
				return ""
			}
			return "'" + sniffed + "'"
		}
		t.Fatalf("unknown matcher input %s", name)
		return ""
	}
	m := l.GetFilterChainMatcher()
	if m == nil {
		t.Fatalf("listener %s has no filter chain matcher", l.GetName())
	}
	return evalMatcher(t, m, input)
}

func evalMatcher(t *testing.T, m *xdsmatcherv3.Matcher, input func(string) string) string {
	t.Helper()
	if tree := m.GetMatcherTree(); tree != nil {
		v := input(tree.GetInput().GetName())
		if on, ok := tree.GetExactMatchMap().GetMap()[v]; ok && v != "" {
			return evalOnMatch(t, on, input)
		}
		if tree.GetExactMatchMap() == nil {
			t.Fatalf("matcher tree of an unexpected kind: %v", tree)
		}
	} else {
		for _, fm := range m.GetMatcherList().GetMatchers() {
			if evalPredicate(t, fm.GetPredicate(), input) {
				return evalOnMatch(t, fm.GetOnMatch(), input)
			}
		}
	}
	if m.GetOnNoMatch() != nil {
		return evalOnMatch(t, m.GetOnNoMatch(), input)
	}
	return ""
}

func evalOnMatch(t *testing.T, on *xdsmatcherv3.Matcher_OnMatch, input func(string) string) string {
	t.Helper()
	if nested := on.GetMatcher(); nested != nil {
		return evalMatcher(t, nested, input)
	}
	name := unpack(t, on.GetAction().GetTypedConfig(), &wrapperspb.StringValue{}).GetValue()
	if name != on.GetAction().GetName() {
		t.Errorf("action %q names chain %q", on.GetAction().GetName(), name)
	}
	return name
}

func evalPredicate(t *testing.T, p *xdsmatcherv3.Matcher_MatcherList_Predicate, input func(string) string) bool {
	t.Helper()
	switch {
	case p.GetSinglePredicate() != nil:
		sp := p.GetSinglePredicate()
		exact := sp.GetValueMatch().GetExact()
		if exact == "" {
			t.Fatalf("single predicate of an unexpected kind: %v", sp)
		}
		return input(sp.GetInput().GetName()) == exact
	case p.GetNotMatcher() != nil:
		return !evalPredicate(t, p.GetNotMatcher(), input)
	case p.GetOrMatcher() != nil:
		for _, q := range p.GetOrMatcher().GetPredicate() {
			if evalPredicate(t, q, input) {
				return true
			}
		}
		return false
	}
	t.Fatalf("predicate of an unexpected kind: %v", p)
	return false
}

// predicateMatches evaluates a listener filter's filter_disabled for a
// connection to port; nil matches nothing.
func predicateMatches(t *testing.T, p *listenerv3.ListenerFilterChainMatchPredicate, port uint32) bool {
	t.Helper()
	switch {
	case p == nil:
		return false
	case p.GetDestinationPortRange() != nil:
		r := p.GetDestinationPortRange()
		return int32(port) >= r.GetStart() && int32(port) < r.GetEnd()
	case p.GetNotMatch() != nil:
		return !predicateMatches(t, p.GetNotMatch(), port)
	case p.GetOrMatch() != nil:
		for _, q := range p.GetOrMatch().GetRules() {
			if predicateMatches(t, q, port) {
				return true
			}
		}
		return false
	}
	t.Fatalf("listener filter predicate of an unexpected kind: %v", p)
	return false
}
