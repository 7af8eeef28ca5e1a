package bootstrap

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"sigs.k8s.io/yaml"

	_ "github.com/envoyproxy/go-control-plane/envoy/config/trace/v3"

	// Every type this package packs into an Any, linked so that protojson
	// can resolve it when printing (and parsing) the bootstrap.
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/stats/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/stream/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/clusters/dynamic_forward_proxy/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/dynamic_forward_proxy/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/fault/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/grpc_stats/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/http_inspector/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/original_dst/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/tls_inspector/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/set_filter_state/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/sni_dynamic_forward_proxy/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/network/dns_resolver/getaddrinfo/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/resource_monitors/downstream_connections/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/retry/host/previous_hosts/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
)

// validatable is every generated Envoy message: a proto with PGV rules.
type validatable interface {
	proto.Message
	ValidateAll() error
}

// packer packs typed configs into Anys after validating them, collecting
// every validation error so that Build reports them all at once.
type packer struct {
	errs []error
}

// pack validates m and returns it as an Any. On error it records the error
// and returns an empty Any; Build checks err before using the result.
func (p *packer) pack(m validatable) *anypb.Any {
	if err := m.ValidateAll(); err != nil {
		p.errs = append(p.errs, fmt.Errorf("validating %s: %w", m.ProtoReflect().Descriptor().FullName(), err))
		return &anypb.Any{}
	}
	a := &anypb.Any{}
	if err := anypb.MarshalFrom(a, m, proto.MarshalOptions{Deterministic: true}); err != nil {
		p.errs = append(p.errs, fmt.Errorf("packing %s: %w", m.ProtoReflect().Descriptor().FullName(), err))
	}
	return a
}

func (p *packer) err() error {
	return errors.Join(p.errs...)
}

// toJSON prints m as compact JSON with proto field names. protojson's
// field order is fixed (declaration order, map keys sorted) and compact
// removes the whitespace it deliberately varies, so the bytes are
// deterministic.
func toJSON(m proto.Message) ([]byte, error) {
	js, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("marshalling bootstrap to JSON: %w", err)
	}
	return compact(js), nil
}

// compact removes the whitespace between the tokens of js, which must be
// valid JSON (protojson's output is): what json.Compact does, without
// validating again what protojson has just written, in a tenth of the
// time.
func compact(js []byte) []byte {
	out := make([]byte, 0, len(js))
	inString, escaped := false, false
	for _, c := range js {
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case !inString && (c == ' ' || c == '\n' || c == '\t' || c == '\r'):
			continue
		}
		out = append(out, c)
	}
	return out
}

// toYAML prints m as YAML with proto field names (snake_case, as in Envoy's
// documentation). protojson's whitespace is deliberately unstable, but
// JSONToYAML re-parses it and sorts every key, so the YAML is deterministic.
func toYAML(m proto.Message) ([]byte, error) {
	js, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("marshalling bootstrap to JSON: %w", err)
	}
	y, err := yaml.JSONToYAML(js)
	if err != nil {
		return nil, fmt.Errorf("converting bootstrap to YAML: %w", err)
	}
	return y, nil
}
