// Package inject is the one door of admission: the webhook, `planeless
// inject` and `planeless render` all go through it, with the same skip rules,
// bounds and templates.
//
// Injector.Inject adds the iptables init container, the Envoy sidecar
// carrying the pod's rendered bootstrap, and the annotations that record
// what was done, to a typed pod, after checking every bound (the bootstrap's
// size estimated from the Spec) before rendering. Injector.Pod does it to a
// pod's JSON and returns that JSON with exactly the injection's changes
// (merge.go): what `planeless inject` prints. Injector.Patch is the JSON
// patch from the pod to that: what the webhook returns.
package inject
