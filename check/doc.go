// Package check tells an operator whether planeless is healthy on a
// cluster, on one screen: the webhook reachable and its certificate valid
// for how long, the namespaces labelled for injection, which pods run an
// injection that differs from what the webhook would render today (and the
// command that restarts them), and which pods of labelled namespaces
// escaped injection and why.
//
// Gather reads the cluster (the Kubernetes API only) into a State; Judge,
// pure, turns a State into a Report; the Report prints as a table or as
// JSON and says whether all is well. What the webhook would render today is
// asked of the webhook itself: each injected pod, uninjected back to its
// original spec, is created again as a server-side dry run, which the API
// server sends through the real webhook and stores nothing (see
// docs/check.md for why this beats reading the webhook's flags).
package check
