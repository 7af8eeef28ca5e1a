// Package e2e proves admission end to end: a real kube-apiserver and etcd
// (envtest), the planeless binary serving the webhook over TLS, and the
// MutatingWebhookConfiguration installed by the chart with helm, pointed at
// that local webhook. Pods are created through the API server and the stored
// pods are checked.
package e2e
