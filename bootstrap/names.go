package bootstrap

import (
	xdscorev3 "github.com/cncf/xds/go/xds/core/v3"
	xdsmatcherv3 "github.com/cncf/xds/go/xds/type/matcher/v3"
	statsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/stats/v3"
	transformstatv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/matching/actions/transform_stat/v3"
	statsinputsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/matching/common_inputs/stats/v3"
)

// The request metrics of outbound requests name the destination the way
// the application did (the Host or :authority it sent) and the workload
// that answered (the server's sidecar tells it in WorkloadHeader). Both
// come from outside the proxy: an application that forwards its callers'
// Host headers (a reverse proxy, an ingress controller) lets any caller
// choose them, and any server can answer with any header. So each is
// checked before it becomes a label, by the stats access logger itself
// (tag rules: a matcher on the label's value): a value not shaped like a
// host[:port] (or a workload name), or longer than MaxNameLength, is
// counted as OtherName. How many distinct values there can be is bounded by
// the request metrics' stats scope (MaxRequestCounters,
// MaxRequestHistograms, unused series evicted): past it a request is still
// served, logged and counted by Envoy's own per-listener request counters,
// but not in the request metrics.
//
// Until 2026-12-03 a Lua filter bounded the names instead, keeping a table
// of at most 200 per pod and counting every request past it as (other). It
// took 7 to 12% of the client sidecar's CPU, most of it the coroutine
// Envoy starts for any script; the tag rules take about 2% (`make
// bench-ablation`).
const (
	// MaxNameLength is the longest host (without its port) or workload
	// name kept as a label.
	MaxNameLength = 128
	// OtherName is the label value of a misshapen name.
	OtherName = "(other)"
	// UnknownWorkload is destination_workload when the response did not
	// name one (a server without a sidecar).
	UnknownWorkload = "unknown"

	// hostShape is a DNS name or an IPv4 address, or an IPv6 address in
	// brackets, each with an optional port: what an application sends as
	// Host. Upper case is allowed and kept, as sent.
	hostShape = `^([A-Za-z0-9][A-Za-z0-9.-]{0,127}|\[[0-9A-Fa-f:.]{2,45}\])(:[0-9]{1,5})?$`
	// workloadShape is <app>.<namespace> and the like.
	workloadShape = `^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`

	statTagValueInputName = "envoy.matching.inputs.stat_tag_value"
	transformStatName     = "envoy.matching.actions.transform_stat"
)

// authorityFormat is the :authority the application sent.
const authorityFormat = "%REQ(:AUTHORITY)%"

// authorityTag labels a request with the :authority the application sent,
// OtherName unless shaped like a host.
func (p *packer) authorityTag(name string) *statsv3.Config_Tag {
	return &statsv3.Config_Tag{
		Name:        name,
		ValueFormat: authorityFormat,
		Rules:       tagRules(p.rewriteUnless(hostShape, OtherName)),
	}
}

// peerWorkloadTag labels a request with the workload the server's sidecar
// named, UnknownWorkload when it named none, OtherName unless shaped like
// a workload.
func (p *packer) peerWorkloadTag(name string) *statsv3.Config_Tag {
	return &statsv3.Config_Tag{
		Name:        name,
		ValueFormat: "%RESP(" + WorkloadHeader + ")%",
		// An absent header formats as "" in a stat tag.
		Rules: tagRules(p.rewriteIf(p.exactly(""), UnknownWorkload), p.rewriteUnless(workloadShape, OtherName)),
	}
}

// tagRules evaluates matchers in order; the first that matches rewrites
// the value.
func tagRules(matchers ...*xdsmatcherv3.Matcher_MatcherList_FieldMatcher) *xdsmatcherv3.Matcher {
	return &xdsmatcherv3.Matcher{MatcherType: &xdsmatcherv3.Matcher_MatcherList_{
		MatcherList: &xdsmatcherv3.Matcher_MatcherList{Matchers: matchers},
	}}
}

// rewriteUnless rewrites a value that does not match regex to value.
func (p *packer) rewriteUnless(regex, value string) *xdsmatcherv3.Matcher_MatcherList_FieldMatcher {
	return p.rewriteIf(&xdsmatcherv3.Matcher_MatcherList_Predicate{
		MatchType: &xdsmatcherv3.Matcher_MatcherList_Predicate_NotMatcher{NotMatcher: p.tagValue(&xdsmatcherv3.StringMatcher{
			MatchPattern: &xdsmatcherv3.StringMatcher_SafeRegex{SafeRegex: &xdsmatcherv3.RegexMatcher{
				EngineType: &xdsmatcherv3.RegexMatcher_GoogleRe2{GoogleRe2: &xdsmatcherv3.RegexMatcher_GoogleRE2{}},
				Regex:      regex,
			}},
		})},
	}, value)
}

// exactly matches a tag whose value is v.
func (p *packer) exactly(v string) *xdsmatcherv3.Matcher_MatcherList_Predicate {
	return p.tagValue(&xdsmatcherv3.StringMatcher{MatchPattern: &xdsmatcherv3.StringMatcher_Exact{Exact: v}})
}

// tagValue matches the tag's value with m.
func (p *packer) tagValue(m *xdsmatcherv3.StringMatcher) *xdsmatcherv3.Matcher_MatcherList_Predicate {
	return &xdsmatcherv3.Matcher_MatcherList_Predicate{
		MatchType: &xdsmatcherv3.Matcher_MatcherList_Predicate_SinglePredicate_{
			SinglePredicate: &xdsmatcherv3.Matcher_MatcherList_Predicate_SinglePredicate{
				Input: &xdscorev3.TypedExtensionConfig{
					Name:        statTagValueInputName,
					TypedConfig: p.pack(&statsinputsv3.StatTagValueInput{}),
				},
				Matcher: &xdsmatcherv3.Matcher_MatcherList_Predicate_SinglePredicate_ValueMatch{ValueMatch: m},
			},
		},
	}
}

// rewriteIf rewrites a value matching predicate to value.
func (p *packer) rewriteIf(predicate *xdsmatcherv3.Matcher_MatcherList_Predicate, value string) *xdsmatcherv3.Matcher_MatcherList_FieldMatcher {
	return &xdsmatcherv3.Matcher_MatcherList_FieldMatcher{
		Predicate: predicate,
		OnMatch: &xdsmatcherv3.Matcher_OnMatch{OnMatch: &xdsmatcherv3.Matcher_OnMatch_Action{Action: &xdscorev3.TypedExtensionConfig{
			Name: transformStatName,
			TypedConfig: p.pack(&transformstatv3.TransformStat{
				UpdateTag: &transformstatv3.TransformStat_UpdateTag{NewTagValue: value},
			}),
		}}},
	}
}
