// Package podstart is the JSON model of the pod start-up benchmark: the
// time from creating a pod to seeing it Ready on a real node
// (tests/node's TestBenchStartup), injected and not, and what the sidecar
// adds.
package podstart
