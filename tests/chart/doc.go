// Package chart tests charts/planeless: helm lint, the invariants of what it
// renders with default and non-default values, a server-side dry run of every
// object against a real kube-apiserver, and that the RBAC it grants is enough
// for the webhook to manage its own certificate.
package chart
