package bootstrap

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"sigs.k8s.io/yaml"

	"github.com/planeless/planeless/internal/pbjson"

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

// renderedSize is a first guess of a bootstrap's size, so that printing
// grows its buffer once or twice rather than a dozen times.
const renderedSize = 32 << 10

// toJSON prints m as compact JSON with proto field names: what protojson
// prints, without its whitespace, in one walk of the message. Field order
// is fixed (declaration order, map keys sorted), so the bytes are
// deterministic. The Anys p packed lazily are printed from the messages
// it kept.
func toJSON(m proto.Message, p *packer) ([]byte, error) {
	printer := pbjson.Printer{Packed: p.message}
	js, err := printer.Append(make([]byte, 0, renderedSize), m)
	if err != nil {
		return nil, fmt.Errorf("marshalling bootstrap to JSON: %w", err)
	}
	return js, nil
}

// toYAML prints m as YAML with proto field names (snake_case, as in Envoy's
// documentation). protojson's whitespace is deliberately unstable, but
// JSONToYAML re-parses it and sorts every key, so the YAML is deterministic.
// It stays on protojson, the reference Render's printer is tested against
// (the goldens are this YAML).
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
