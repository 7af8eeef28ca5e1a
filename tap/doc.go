// Package tap streams the access logs of planeless sidecars: it follows the
// planeless-proxy container's log of every pod a target selects (a
// namespace, a deployment or one pod) through the Kubernetes pod-log API,
// merges the lines into one stream, pairs the client's outbound entry with
// the server's inbound entry of the same request, filters, and prints one
// line (or one JSON object) per request.
//
// The pure parts (Parse, Filter, Pairer, the writers) know nothing of
// Kubernetes and are tested on real Envoy lines; Streamer is the client-go
// part; Run joins them.
package tap
