package bootstrap

import (
	"strconv"

	xdscorev3 "github.com/cncf/xds/go/xds/core/v3"
	xdsmatcherv3 "github.com/cncf/xds/go/xds/type/matcher/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	networkinputsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/matching/common_inputs/network/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/planeless/planeless/proxy"
)

// The inbound listener picks a connection's chain with Envoy's matcher API
// (filter_chain_matcher) rather than a filter_chain_match per chain: a
// FilterChainMatch names one destination port, so chains shared by many
// ports would be repeated per port, and with them their connection managers
// (a few KiB each).
//
// Only the intercepted ports are redirected to the inbound listener
// (iptables.Plan); the only other port a connection can arrive with is the
// listener's own, dialled directly, and passing that one on to its
// original destination would loop. So the matcher names the ports of every
// protocol but the most common one (the default), and the listener's own
// port, which matches nothing and is closed:
//
//   - a connection the HTTP inspector recognised as HTTP/1.1 or h2c goes
//     to inbound|http. The inspector runs for auto ports only (inspected),
//     so only a connection to an auto port has an application protocol;
//   - every other connection by its original destination port: a grpc
//     port to inbound|grpc, an http port to inbound|http, a tcp port and
//     an auto port that did not look like HTTP to inbound|tcp; ports of
//     the default protocol are not listed, they are all the ports but the
//     listener's own.
//
// A pod whose ports all speak one protocol has a matcher of constant size,
// however many ports it has; any other pays a few dozen bytes per port of
// the less common protocols.
const (
	destinationPortInputName     = "envoy.matching.inputs.destination_port"
	applicationProtocolInputName = "envoy.matching.inputs.application_protocol"
)

// sniffedHTTP are the values of the application protocol input for what
// the HTTP inspector reports as plaintext HTTP/1.1 and HTTP/2 with prior
// knowledge: a quoted, comma-separated list, here of one.
var sniffedHTTP = []string{"'http/1.1'", "'h2c'"}

// chainOf is the chain of a port's connections that are not sniffed as
// HTTP.
func chainOf(p proxy.Protocol) string {
	switch p {
	case proxy.ProtocolGRPC:
		return inboundGRPC
	case proxy.ProtocolHTTP:
		return inboundHTTP
	}
	return inboundTCP
}

// defaultProtocol is the protocol most of ports speak (on a tie, the
// first, in ports' order, to reach the highest count).
func defaultProtocol(ports []proxy.Port) proxy.Protocol {
	count := map[proxy.Protocol]int{}
	var best proxy.Protocol
	for _, port := range ports {
		count[port.Protocol]++
		if count[port.Protocol] > count[best] {
			best = port.Protocol
		}
	}
	return best
}

// inspected says whether the HTTP inspector runs, and for which
// connections it must not: every port but the auto ports. When auto is
// the default protocol, those are named (with the listener's own port)
// rather than the auto ports, so that the size stays constant.
func inspected(ports []proxy.Port, own uint16) (disabled *listenerv3.ListenerFilterChainMatchPredicate, any bool) {
	auto := autoPorts(ports)
	if len(auto) == 0 {
		return nil, false
	}
	if defaultProtocol(ports) != proxy.ProtocolAuto {
		return notInPorts(auto), true
	}
	others := []uint16{own}
	for _, port := range ports {
		if port.Protocol != proxy.ProtocolAuto {
			others = append(others, port.Number)
		}
	}
	return inPorts(others), true
}

// inboundMatcher returns the listener's filter chain matcher for ports,
// own being the listener's port.
func (p *packer) inboundMatcher(ports []proxy.Port, own uint16) *xdsmatcherv3.Matcher {
	actions := map[string]*xdsmatcherv3.Matcher_OnMatch{}
	action := func(chain string) *xdsmatcherv3.Matcher_OnMatch {
		if a, ok := actions[chain]; ok {
			return a
		}
		a := &xdsmatcherv3.Matcher_OnMatch{OnMatch: &xdsmatcherv3.Matcher_OnMatch_Action{Action: &xdscorev3.TypedExtensionConfig{
			Name:        chain,
			TypedConfig: p.packName(chain),
		}}}
		actions[chain] = a
		return a
	}

	def := defaultProtocol(ports)
	// Every port but the listener's own: the default chain.
	byDefault := &xdsmatcherv3.Matcher{
		MatcherType: &xdsmatcherv3.Matcher_MatcherList_{MatcherList: &xdsmatcherv3.Matcher_MatcherList{
			Matchers: []*xdsmatcherv3.Matcher_MatcherList_FieldMatcher{{
				Predicate: &xdsmatcherv3.Matcher_MatcherList_Predicate{
					MatchType: &xdsmatcherv3.Matcher_MatcherList_Predicate_NotMatcher{NotMatcher: p.portIs(own)},
				},
				OnMatch: action(chainOf(def)),
			}},
		}},
	}
	byPort := map[string]*xdsmatcherv3.Matcher_OnMatch{}
	for _, port := range ports {
		if port.Protocol != def {
			byPort[strconv.Itoa(int(port.Number))] = action(chainOf(port.Protocol))
		}
	}
	notSniffed := byDefault
	if len(byPort) > 0 {
		notSniffed = &xdsmatcherv3.Matcher{
			MatcherType: &xdsmatcherv3.Matcher_MatcherTree_{MatcherTree: &xdsmatcherv3.Matcher_MatcherTree{
				Input: p.input(destinationPortInputName, &networkinputsv3.DestinationPortInput{}),
				TreeType: &xdsmatcherv3.Matcher_MatcherTree_ExactMatchMap{
					ExactMatchMap: &xdsmatcherv3.Matcher_MatcherTree_MatchMap{Map: byPort},
				},
			}},
			OnNoMatch: &xdsmatcherv3.Matcher_OnMatch{OnMatch: &xdsmatcherv3.Matcher_OnMatch_Matcher{Matcher: byDefault}},
		}
	}
	if len(autoPorts(ports)) == 0 {
		return notSniffed
	}

	sniffed := map[string]*xdsmatcherv3.Matcher_OnMatch{}
	for _, protocol := range sniffedHTTP {
		sniffed[protocol] = action(inboundHTTP)
	}
	return &xdsmatcherv3.Matcher{
		MatcherType: &xdsmatcherv3.Matcher_MatcherTree_{MatcherTree: &xdsmatcherv3.Matcher_MatcherTree{
			Input: p.input(applicationProtocolInputName, &networkinputsv3.ApplicationProtocolInput{}),
			TreeType: &xdsmatcherv3.Matcher_MatcherTree_ExactMatchMap{
				ExactMatchMap: &xdsmatcherv3.Matcher_MatcherTree_MatchMap{Map: sniffed},
			},
		}},
		OnNoMatch: &xdsmatcherv3.Matcher_OnMatch{OnMatch: &xdsmatcherv3.Matcher_OnMatch_Matcher{Matcher: notSniffed}},
	}
}

// portIs matches connections to port.
func (p *packer) portIs(port uint16) *xdsmatcherv3.Matcher_MatcherList_Predicate {
	return &xdsmatcherv3.Matcher_MatcherList_Predicate{
		MatchType: &xdsmatcherv3.Matcher_MatcherList_Predicate_SinglePredicate_{SinglePredicate: &xdsmatcherv3.Matcher_MatcherList_Predicate_SinglePredicate{
			Input: p.input(destinationPortInputName, &networkinputsv3.DestinationPortInput{}),
			Matcher: &xdsmatcherv3.Matcher_MatcherList_Predicate_SinglePredicate_ValueMatch{ValueMatch: &xdsmatcherv3.StringMatcher{
				MatchPattern: &xdsmatcherv3.StringMatcher_Exact{Exact: strconv.Itoa(int(port))},
			}},
		}},
	}
}

// input is a matcher's input extension.
func (p *packer) input(name string, config validatable) *xdscorev3.TypedExtensionConfig {
	return &xdscorev3.TypedExtensionConfig{Name: name, TypedConfig: p.pack(config)}
}

// packName packs the name of a filter chain, the action of the filter
// chain matcher: a google.protobuf.StringValue, which has no rules to
// validate.
func (p *packer) packName(chain string) *anypb.Any {
	return p.packValid(wrapperspb.String(chain))
}
