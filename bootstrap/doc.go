// Package bootstrap owns the Envoy bootstrap of one pod's proxy.
//
// Build turns a spec.Spec into a typed, validated
// envoy.config.bootstrap.v3.Bootstrap made only of go-control-plane
// messages: an admin interface on loopback, a stats listener that serves
// exactly /stats/prometheus and /ready, an inbound listener with one filter
// chain per intercepted port, and (with egress on) an outbound listener that
// proxies HTTP through Envoy's dynamic forward proxy and passes every other
// protocol through to its original destination. Render returns the same
// bootstrap as deterministic YAML, the form Envoy reads with -c.
//
// Every typed config is validated with its generated ValidateAll before it
// is packed into an Any, because validation does not descend into Any; the
// packed types are linked into the binary so protojson can print them.
package bootstrap
