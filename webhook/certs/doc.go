// Package certs keeps the webhook's serving certificate and the caBundle of
// its MutatingWebhookConfiguration current without manual steps.
//
// A self-signed CA and a serving certificate for the webhook's Service live in
// one Secret, created and rotated by open-policy-agent/cert-controller. Every
// replica serves the Secret's current pair from memory as soon as it changes
// (keeper.go), and is ready once the caBundle is the Secret's CA. Manager.Run
// returns when management stops, for the webhook to stop with it; the errors
// of replicas racing on a fresh install are logged at debug level (Quiet).
package certs
