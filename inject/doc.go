// Package inject is the one door of admission: the webhook, `planeless
// inject` and `planeless render` all go through it, with the same skip rules,
// bounds and templates.
//
// Injector.Inject adds the iptables init container, the Envoy sidecar
// carrying the pod's rendered bootstrap, and the annotations that record
// what was done, to a typed pod, after checking every bound. Injector.Patch
// does it to a pod's JSON, decoding only what injection reads (decode.go),
// and returns the JSON patch of exactly the injection's changes, built from
// what it added rather than by comparing the pod before and after (ops.go):
// what the webhook returns. Injector.Pod applies that patch to the pod's
// JSON: what `planeless inject` prints. An Injector with a bootstrap.Cache
// renders each pod shape's bootstrap once.
package inject
