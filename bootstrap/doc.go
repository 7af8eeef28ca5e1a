// Package bootstrap owns the Envoy bootstrap of one pod's proxy.
//
// Build turns a proxy.Spec into a typed, validated
// envoy.config.bootstrap.v3.Bootstrap made only of go-control-plane
// messages: an admin interface on loopback, a stats listener that serves
// exactly /stats/prometheus and /ready, an inbound listener with one filter
// chain per protocol, shared by every intercepted port (its size does not
// grow with the ports), and (with egress on) an outbound listener that
// proxies HTTP through Envoy's dynamic forward proxy and passes every other
// protocol through to its original destination. Render returns it as
// compact, deterministic JSON, the form the pod's annotation carries
// (RenderYAML as YAML, for people); a Cache renders each Spec once.
//
// Every HTTP connection manager also carries what users come for: the
// access log line (AccessLogFields, accesslog.go), the request metrics per
// destination and outcome (requestmetrics.go), gRPC status counting
// (grpcstats.go) and, when the pod asks, tracing to a Zipkin or OTLP
// collector (tracing.go). Stats tags (stats.go) stamp every metric with the
// pod's namespace, app and version, and a stats inclusion list
// (statsmatcher.go) keeps only the metrics planeless documents.
//
// Every typed config is validated with its generated ValidateAll before it
// is packed into an Any, because validation does not descend into Any.
// Render does not marshal the configs it packs: it keeps each beside its
// Any and prints it from there with internal/pbjson, the JSON protojson
// would print in a fraction of the time. The packed types are linked into
// the binary so that protojson (RenderYAML, and readers of Build's
// bootstrap) can resolve them.
package bootstrap
