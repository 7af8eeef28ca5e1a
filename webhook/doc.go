// Package webhook serves the injector as a Kubernetes mutating admission
// webhook: AdmissionReview v1 over TLS (the certificate is reloaded when its
// files change), /healthz and /readyz, and Prometheus metrics on a separate
// plain-HTTP listener.
//
// handler.go decides (decode → inject → patch against the raw object);
// http.go is the transport, which answers malformed requests with a 4xx;
// server.go wires both to TLS; metrics.go counts what happened.
package webhook
