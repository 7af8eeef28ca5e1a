package bootstrap

import (
	"slices"
	"strings"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	statsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/stats/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/planeless/planeless/proxy"
)

// Request metrics: one counter and one latency histogram per request, both
// directions, labelled by destination and outcome. Envoy's own cluster
// stats cannot do this for outbound requests: the router charges response
// codes and latency to the forward proxy's parent cluster (outbound|http),
// only connection and request totals reach a destination's sub-cluster
// (see TestPerDestinationMetrics in tests/dataplane). These come from Envoy's stats
// access logger instead, which evaluates its labels per request.
//
// In Prometheus: envoy_planeless_requests_total and
// envoy_planeless_request_duration_milliseconds_{bucket,sum,count}.
const (
	requestMetricsScope = "planeless"
	// RequestsMetric and RequestDurationMetric are the names Prometheus
	// shows (Envoy prefixes envoy_).
	RequestsMetric        = "envoy_planeless_requests_total"
	RequestDurationMetric = "envoy_planeless_request_duration_milliseconds"

	// MaxRequestCounters and MaxRequestHistograms bound the label
	// combinations of one connection manager (the outbound listener, or one
	// inbound port), a second line of defence behind the bounded labels:
	// a request whose combination is past the bound is still served and
	// logged, but not counted. Series unused between two sweeps
	// (statsEvictionInterval) are dropped and free their place. (One scope
	// shared by every connection manager, sharing_name, would bound the pod
	// as a whole, but crashes Envoy 1.40 on shutdown.)
	MaxRequestCounters   = 2000
	MaxRequestHistograms = 500

	statsAccessLogName = "envoy.access_loggers.stats"
)

// Labels of the request metrics, besides namespace, app and version.
const (
	LabelDirection           = "direction"
	LabelDestination         = "destination"
	LabelSourceWorkload      = "source_workload"
	LabelDestinationWorkload = "destination_workload"
	LabelResponseCode        = "response_code"
	LabelGRPCStatus          = "grpc_status"
	LabelResponseFlags       = "response_flags"
)

// requestMetrics is the stats access logger of one direction. Every label
// is bounded by what the pod itself knows: inbound, its own workload and
// the port that was called (never what the caller sends); outbound, the
// names the application and the server chose, checked (names.go).
func (p *packer) requestMetrics(s *proxy.Spec, d direction) *accesslogv3.AccessLog {
	tag := func(name, format string) *statsv3.Config_Tag {
		if format == "" {
			format = "unknown"
		}
		return &statsv3.Config_Tag{Name: name, ValueFormat: format}
	}
	self := escapeFormat(workloadOf(s))
	where := []*statsv3.Config_Tag{
		tag(TagNamespace, escapeFormat(s.Workload.Namespace)),
		tag(TagApp, escapeFormat(s.Workload.App)),
		tag(TagVersion, escapeFormat(s.Workload.Version)),
		tag(LabelDirection, string(d)),
	}
	var peers []*statsv3.Config_Tag
	if d == inbound {
		// This workload and the port the caller dialled.
		where = append(where, tag(LabelDestination, self+":%DOWNSTREAM_LOCAL_PORT%"))
		peers = []*statsv3.Config_Tag{tag(LabelDestinationWorkload, self)}
	} else {
		where = append(where, p.authorityTag(LabelDestination))
		peers = []*statsv3.Config_Tag{
			tag(LabelSourceWorkload, self),
			p.peerWorkloadTag(LabelDestinationWorkload),
		}
	}
	outcome := slices.Concat(where, peers, []*statsv3.Config_Tag{
		tag(LabelResponseCode, "%RESPONSE_CODE%"),
		tag(LabelGRPCStatus, "%GRPC_STATUS_NUMBER%"),
		tag(LabelResponseFlags, "%RESPONSE_FLAGS%"),
	})
	cfg := &statsv3.Config{
		StatsScope: &typev3.Scope{
			Prefix:         requestMetricsScope,
			MaxCounters:    wrapperspb.UInt32(MaxRequestCounters),
			MaxHistograms:  wrapperspb.UInt32(MaxRequestHistograms),
			EnableEviction: true,
		},
		Counters: []*statsv3.Config_Counter{{
			Stat:       &statsv3.Config_Stat{Name: "requests_total", Tags: outcome},
			ValueFixed: wrapperspb.UInt64(1),
		}},
		Histograms: []*statsv3.Config_Histogram{{
			Stat:        &statsv3.Config_Stat{Name: "request_duration_milliseconds", Tags: where},
			Unit:        statsv3.Config_Histogram_Milliseconds,
			ValueFormat: "%DURATION%",
		}},
	}
	return &accesslogv3.AccessLog{
		Name:       statsAccessLogName,
		ConfigType: &accesslogv3.AccessLog_TypedConfig{TypedConfig: p.pack(cfg)},
	}
}

// escapeFormat makes v stand for itself in an Envoy format string: a
// label value holding %DOWNSTREAM_REMOTE_ADDRESS% is printed as written.
func escapeFormat(v string) string { return strings.ReplaceAll(v, "%", "%%") }
