package bootstrap

import (
	"strings"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	streamv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/stream/v3"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/planeless/planeless/spec"
)

// AccessLogField is one field of the JSON access log line.
type AccessLogField struct {
	// Name is the JSON key.
	Name string
	// Format is an Envoy format string: command operators such as
	// %RESPONSE_CODE%, or one of the placeholders {direction}, {namespace},
	// {app}, {version} and {pod}, which Build replaces with the pod's values.
	Format string
}

// AccessLogFields is the field set of the access log line every HTTP
// connection manager (inbound and outbound) writes to stdout, one JSON
// object per request.
var AccessLogFields = []AccessLogField{
	{"start_time", "%START_TIME%"},
	{"direction", "{direction}"},
	{"method", "%REQ(:METHOD)%"},
	{"path", "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%"},
	{"authority", "%REQ(:AUTHORITY)%"},
	{"protocol", "%PROTOCOL%"},
	{"response_code", "%RESPONSE_CODE%"},
	{"grpc_status", "%GRPC_STATUS%"},
	{"response_flags", "%RESPONSE_FLAGS%"},
	{"duration", "%DURATION%"},
	{"upstream_service_time", "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%"},
	{"bytes_received", "%BYTES_RECEIVED%"},
	{"bytes_sent", "%BYTES_SENT%"},
	{"request_id", "%REQ(X-REQUEST-ID)%"},
	{"upstream_host", "%UPSTREAM_HOST%"},
	{"upstream_cluster", "%UPSTREAM_CLUSTER%"},
	{"namespace", "{namespace}"},
	{"app", "{app}"},
	{"version", "{version}"},
	{"pod", "{pod}"},
}

const stdoutAccessLogName = "envoy.access_loggers.stdout"

// accessLog writes AccessLogFields as one JSON line per request to stdout.
func (p *packer) accessLog(s *spec.Spec, d direction) []*accesslogv3.AccessLog {
	identity := strings.NewReplacer(
		"{direction}", string(d),
		"{namespace}", s.Workload.Namespace,
		"{app}", s.Workload.App,
		"{version}", s.Workload.Version,
		"{pod}", s.Workload.Name,
	)
	fields := make(map[string]*structpb.Value, len(AccessLogFields))
	for _, f := range AccessLogFields {
		fields[f.Name] = structpb.NewStringValue(identity.Replace(f.Format))
	}
	stdout := &streamv3.StdoutAccessLog{
		AccessLogFormat: &streamv3.StdoutAccessLog_LogFormat{LogFormat: &corev3.SubstitutionFormatString{
			Format: &corev3.SubstitutionFormatString_JsonFormat{JsonFormat: &structpb.Struct{Fields: fields}},
		}},
	}
	return []*accesslogv3.AccessLog{{
		Name:       stdoutAccessLogName,
		ConfigType: &accesslogv3.AccessLog_TypedConfig{TypedConfig: p.pack(stdout)},
	}}
}
