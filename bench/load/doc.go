// Package load drives a request function open-loop (a fixed rate, latency
// measured from when each request was due, so a slow server cannot hide
// its queue) or closed-loop (n workers as fast as they can), and reduces
// what it saw to counts and latency percentiles.
package load
