// Package podcmd holds the commands that run inside an injected pod: init
// (the init container, which installs the iptables rules and copies its
// own binary for the proxy's hooks), wait (the proxy's postStart hook) and
// drain (its preStop hook).
//
// They are both in the planeless binary and alone in planeless-pod, a
// binary without the webhook's dependencies (client-go, controller-runtime,
// go-control-plane): its start, which every pod waits for, costs a few
// milliseconds of package initialisation instead of some thirty, and the
// binary init copies into the pod is a quarter of the size (11 MB
// stripped, against 45). So this package must not import them either;
// TestPodBinaryStaysSmall checks.
package podcmd
