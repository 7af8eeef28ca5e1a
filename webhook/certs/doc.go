// Package certs keeps the webhook's serving certificate and the caBundle of
// its MutatingWebhookConfiguration current without manual steps.
//
// A self-signed CA and a serving certificate for the webhook's Service live in
// one Secret, created and rotated by open-policy-agent/cert-controller; every
// replica writes the Secret's tls.crt and tls.key into its certificate folder
// whenever they change, and the webhook server reloads them from there.
package certs
