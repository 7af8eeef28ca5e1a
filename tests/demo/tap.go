package main

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/planeless/planeless/tap"
	"github.com/planeless/planeless/tests/harness"
)

// tapPairWait is `planeless tap`'s default --pair-wait.
const tapPairWait = 2 * time.Second

// showTap prints what `planeless tap ns/demo` shows, from the Envoy
// stdout of the demo's pods instead of the pod-log API (there is no API
// server here): the lines go through the tap package's own parser,
// filter, pairer and table writer, as in `planeless tap`.
func showTap(r *runner, pods []*harness.Pod) {
	entries, err := tapEntries(r, pods)
	if err != nil {
		r.Fatal(err)
	}
	r.printf("   On a cluster: kubectl planeless tap ns/demo  (or planeless tap deploy/web, --status 5xx, -o json, ...).\n")
	r.printf("   Here the same tap code reads the sidecars' stdout files of web, orders and orders-v2.\n")

	r.printf("\n   %s\n", r.bold("kubectl planeless tap ns/demo   (the last requests)"))
	all := tapRequests(entries, tap.Filter{})
	writeTap(r, all[max(0, len(all)-8):])

	// The last 8 requests may happen to hold no call to orders (gRPC
	// calls and the canary share the traffic): a filtered view shows
	// web's REST calls to orders, each paired with orders' side.
	r.printf("\n   %s\n", r.bold("kubectl planeless tap ns/demo --authority orders:8080 --method GET   (the last ones)"))
	toOrders := tapRequests(entries, tap.Filter{Authorities: []string{"orders:8080"}, Methods: []string{"GET"}})
	writeTap(r, toOrders[max(0, len(toOrders)-3):])

	status, err := tap.ParseStatus("500-599")
	if err != nil {
		r.Fatal(err)
	}
	r.printf("\n   %s\n", r.bold("kubectl planeless tap ns/demo --status 500-599   (the last ones)"))
	failed := tapRequests(entries, tap.Filter{Status: status})
	writeTap(r, failed[max(0, len(failed)-5):])
	r.printf("   (%d requests in all, %d of them with a 5xx on some side)\n", len(all), len(failed))
}

// tapEntries reads the access-log entries of every pod's sidecar, in the
// order the requests started.
func tapEntries(r *runner, pods []*harness.Pod) ([]tap.Entry, error) {
	var entries []tap.Entry
	for _, p := range pods {
		es, err := parseSidecarLog(tap.PodRef{Namespace: p.Object.Namespace, Name: p.Name}, p.EnvoyStdout(r))
		if err != nil {
			return nil, err
		}
		entries = append(entries, es...)
	}
	slices.SortStableFunc(entries, func(a, b tap.Entry) int { return a.StartTime.Compare(b.StartTime) })
	return entries, nil
}

// parseSidecarLog reads the access-log entries of one pod's sidecar log;
// Envoy's own log lines are skipped, as tap skips them.
func parseSidecarLog(pod tap.PodRef, log string) ([]tap.Entry, error) {
	var entries []tap.Entry
	for line := range strings.Lines(log) {
		e, err := tap.Parse([]byte(line))
		if errors.Is(err, tap.ErrNotAccessLog) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("pod %s: %w", pod, err)
		}
		e.Source = pod
		entries = append(entries, e)
	}
	return entries, nil
}

// tapRequests filters and pairs entries as `planeless tap` does, with the
// requests' start times as its clock: an entry waits tapPairWait for its
// other side, then goes alone.
func tapRequests(entries []tap.Entry, f tap.Filter) []tap.Request {
	p := &tap.Pairer{Wait: tapPairWait, Max: 10000}
	var out []tap.Request
	for _, e := range entries {
		if !f.Match(e) {
			continue
		}
		out = append(out, p.Expire(e.StartTime)...)
		out = append(out, p.Add(e, e.StartTime)...)
	}
	out = append(out, p.Flush()...)
	// Print in the order the requests started, as a live tap nearly does.
	slices.SortStableFunc(out, func(a, b tap.Request) int {
		return cmp.Compare(a.First().StartTime.UnixNano(), b.First().StartTime.UnixNano())
	})
	return out
}

// writeTap prints requests with tap's table writer, indented.
func writeTap(r *runner, requests []tap.Request) {
	table, err := tapTable(requests, r.color, nil)
	if err != nil {
		r.Fatal(err)
	}
	r.print(indent(table))
}

// tapTable is what `planeless tap` prints for requests, times in loc
// (nil: local time).
func tapTable(requests []tap.Request, color bool, loc *time.Location) (string, error) {
	var b strings.Builder
	w := tap.NewTableWriter(&b, color)
	w.Location = loc
	if err := w.Header(); err != nil {
		return "", err
	}
	for _, req := range requests {
		if err := w.Write(req); err != nil {
			return "", err
		}
	}
	if len(requests) == 0 {
		b.WriteString("(no requests)\n")
	}
	return b.String(), nil
}
