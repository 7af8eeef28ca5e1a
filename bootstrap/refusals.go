package bootstrap

import (
	"strings"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	statsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/stats/v3"
	streamv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/stream/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/planeless/planeless/proxy"
)

// Every connection or request an allow-list refuses is counted and
// logged. The counter, EgressRefusedMetric, is labelled with the pod's
// workload, the protocol, the reason and the destination; the destination
// is bounded like the request metrics' (an HTTP Host checked by the same
// tag rules, names.go), and by the scope's cap of MaxRefusalCounters
// series, evicted when unused: past the cap a refusal
// is still refused and logged, and counted without its destination in
// Envoy's own stats (envoy_http_no_route, envoy_http_rbac_denied,
// envoy_tcp_downstream_cx_total of the refused chains). The log line goes to
// stdout in the pod's access log format, with the fields of
// RefusalLogFields.
const (
	// EgressRefusedMetric is the counter's name in Prometheus.
	EgressRefusedMetric = "envoy_planeless_egress_refused_total"
	// MaxRefusalCounters bounds the counter's series per chain.
	MaxRefusalCounters = 100

	// EgressRefusedStatus answers a refused HTTP request.
	EgressRefusedStatus = 403
	// RefusalEvent is the event field of a refusal's log line.
	RefusalEvent = "egress_refused"

	LabelProtocol = "protocol"
	LabelReason   = "reason"
)

// Reasons of a refusal, in the reason label and log field.
const (
	// ReasonHostNotAllowed: an HTTP request to an address the allow-list
	// does not cover, whose Host it does not allow either.
	ReasonHostNotAllowed = "host_not_allowed"
	// ReasonServerNameNotAllowed: TLS to an address the allow-list does
	// not cover, with a server name (SNI) it does not allow, or none.
	ReasonServerNameNotAllowed = "server_name_not_allowed"
	// ReasonDestinationNotAllowed: any other connection to an address the
	// allow-list does not cover.
	ReasonDestinationNotAllowed = "destination_not_allowed"
	// ReasonPortNotAllowed: a connection or request to an address the
	// allow-list covers on other ports only.
	ReasonPortNotAllowed = "port_not_allowed"
)

// refusal is one way of being refused: what the label and the log say.
type refusal struct {
	protocol, reason string
	// stat is the destination label's format (an :authority is checked
	// as the request metrics' is), log the log field's.
	stat, log string
}

var (
	refusedHost = refusal{"http", ReasonHostNotAllowed, authorityFormat, "%REQ(:AUTHORITY):256%"}
	refusedHTTP = refusal{"http", ReasonPortNotAllowed, "%DOWNSTREAM_LOCAL_ADDRESS%", "%REQ(:AUTHORITY):256%"}
	refusedTLS  = refusal{"tls", ReasonServerNameNotAllowed, "%REQUESTED_SERVER_NAME%", "%REQUESTED_SERVER_NAME%"}
	refusedTCP  = refusal{"tcp", ReasonDestinationNotAllowed, "%DOWNSTREAM_LOCAL_ADDRESS%", "%DOWNSTREAM_LOCAL_ADDRESS%"}
	refusedPort = refusal{"tcp", ReasonPortNotAllowed, "%DOWNSTREAM_LOCAL_ADDRESS%", "%DOWNSTREAM_LOCAL_ADDRESS%"}
)

// destinationTag is a refusal's destination label.
func (p *packer) destinationTag(format string) *statsv3.Config_Tag {
	if format == authorityFormat {
		return p.authorityTag(LabelDestination)
	}
	return &statsv3.Config_Tag{Name: LabelDestination, ValueFormat: format}
}

// RefusalLogFields are the fields of a refusal's log line, in order. It
// has no direction field, so `planeless tap` and other readers of request
// lines pass it by; an HTTP refusal also has its request line (status
// 403).
var RefusalLogFields = []AccessLogField{
	{"start_time", "%START_TIME%", "When the request or connection arrived."},
	{"event", RefusalEvent, "Always `" + RefusalEvent + "`."},
	{"protocol", "{protocol}", "`http`, `tls` or `tcp`."},
	{"reason", "{reason}", "`" + ReasonHostNotAllowed + "`, `" + ReasonServerNameNotAllowed + "`, `" + ReasonDestinationNotAllowed + "` or `" + ReasonPortNotAllowed + "`."},
	{"destination", "{destination}", "The Host (HTTP, at most 256 characters), the server name (TLS) or the address (TCP) that was refused."},
	{"destination_address", "%DOWNSTREAM_LOCAL_ADDRESS%", "The IP:port the application dialled."},
	{"client_address", "%DOWNSTREAM_REMOTE_ADDRESS%", "The application's end of the connection."},
	{"namespace", "{namespace}", "This pod's namespace."},
	{"app", "{app}", "This pod's app."},
	{"version", "{version}", "This pod's version."},
	{"pod", "%ENVIRONMENT(POD_NAME)%", "This pod's name."},
}

// refusalLogs returns the counter and the log line of a refusal; filter,
// when not nil, picks the refused requests among a connection manager's.
func (p *packer) refusalLogs(s *proxy.Spec, r refusal, filter *accesslogv3.AccessLogFilter) []*accesslogv3.AccessLog {
	tag := func(name, format string) *statsv3.Config_Tag {
		return &statsv3.Config_Tag{Name: name, ValueFormat: format}
	}
	counter := &statsv3.Config{
		StatsScope: &typev3.Scope{
			Prefix:         requestMetricsScope,
			MaxCounters:    wrapperspb.UInt32(MaxRefusalCounters),
			EnableEviction: true,
		},
		Counters: []*statsv3.Config_Counter{{
			Stat: &statsv3.Config_Stat{Name: "egress_refused_total", Tags: []*statsv3.Config_Tag{
				tag(TagNamespace, escapeFormat(s.Workload.Namespace)),
				tag(TagApp, escapeFormat(s.Workload.App)),
				tag(TagVersion, escapeFormat(s.Workload.Version)),
				tag(LabelProtocol, r.protocol),
				tag(LabelReason, r.reason),
				p.destinationTag(r.stat),
			}},
			ValueFixed: wrapperspb.UInt64(1),
		}},
	}
	logs := []*accesslogv3.AccessLog{{
		Name:       statsAccessLogName,
		Filter:     filter,
		ConfigType: &accesslogv3.AccessLog_TypedConfig{TypedConfig: p.pack(counter)},
	}}
	if line := p.refusalLine(s, r); line != nil {
		logs = append(logs, &accesslogv3.AccessLog{
			Name:       stdoutAccessLogName,
			Filter:     filter,
			ConfigType: &accesslogv3.AccessLog_TypedConfig{TypedConfig: p.pack(line)},
		})
	}
	return logs
}

// refusalLine is the stdout line of a refusal in the pod's access log
// format; nil when the access log is off.
func (p *packer) refusalLine(s *proxy.Spec, r refusal) *streamv3.StdoutAccessLog {
	values := strings.NewReplacer(
		"{protocol}", r.protocol,
		"{reason}", r.reason,
		"{destination}", r.log,
		"{namespace}", escapeFormat(s.Workload.Namespace),
		"{app}", escapeFormat(s.Workload.App),
		"{version}", escapeFormat(s.Workload.Version),
	)
	var format *corev3.SubstitutionFormatString
	switch s.AccessLog.Format {
	case proxy.AccessLogOff:
		return nil
	case proxy.AccessLogText:
		pairs := make([]string, len(RefusalLogFields))
		for i, f := range RefusalLogFields {
			pairs[i] = f.Name + "=" + values.Replace(f.Format)
		}
		format = &corev3.SubstitutionFormatString{Format: &corev3.SubstitutionFormatString_TextFormatSource{
			TextFormatSource: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: strings.Join(pairs, " ") + "\n"}},
		}}
	default:
		fields := make(map[string]*structpb.Value, len(RefusalLogFields))
		for _, f := range RefusalLogFields {
			fields[f.Name] = structpb.NewStringValue(values.Replace(f.Format))
		}
		format = &corev3.SubstitutionFormatString{Format: &corev3.SubstitutionFormatString_JsonFormat{JsonFormat: &structpb.Struct{Fields: fields}}}
	}
	return &streamv3.StdoutAccessLog{AccessLogFormat: &streamv3.StdoutAccessLog_LogFormat{LogFormat: format}}
}

// withFlag picks the requests or connections that ended with an Envoy
// response flag (NR: no route, NC: no cluster).
func withFlag(flag string) *accesslogv3.AccessLogFilter {
	return &accesslogv3.AccessLogFilter{FilterSpecifier: &accesslogv3.AccessLogFilter_ResponseFlagFilter{
		ResponseFlagFilter: &accesslogv3.ResponseFlagFilter{Flags: []string{flag}},
	}}
}
