// Package webhook serves the injector as a Kubernetes mutating admission
// webhook: AdmissionReview v1 over TLS (1.3, or 1.2 with AEAD suites only;
// the certificate reloaded from its files or served from memory), /healthz
// and /readyz, and Prometheus metrics on a separate plain-HTTP listener.
//
// handler.go decides (inject → exact patch of the request's object, encoded
// once by patch.go; denials and warnings kept short by message.go);
// answers.go keeps the answers of injected pods, so that the later pods of
// a ReplicaSet get the first one's; cache.go gives the injector its
// bootstrap cache and exposes both caches' metrics; http.go is the
// transport, which answers malformed requests with a 4xx, holds a bounded
// number of reviews at once, stops work at the deadline the API server
// sends and writes the answer as reply.go encodes it; server.go wires both
// to a TLS server with read timeouts and a graceful shutdown; metrics.go
// counts what happened.
package webhook
