// Package inject patches a pod: it adds the iptables init container, the
// Envoy sidecar carrying the pod's rendered bootstrap, and the annotations
// that record what was done. The webhook and `planeless inject` both call
// Injector.Inject, so the CLI's output is exactly what the webhook stores.
package inject
