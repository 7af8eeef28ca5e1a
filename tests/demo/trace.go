package main

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// showTrace prints one trace of users → web → orders from Zipkin's API:
// the span web's sidecar reported for the request users sent, the span of
// web's own request to orders (its child, because web copied the trace
// headers), and the span orders' sidecar reported for it.
func showTrace(r *runner, z *zipkin) {
	trace := waitForChain(r, z)
	r.printf("   GET %s/api/v2/trace/%s (%d spans; the UI: %s/zipkin/traces/%s)\n", z.URL, trace[0].TraceID, len(trace), z.URL, trace[0].TraceID)
	children := map[string][]span{}
	ids := map[string]bool{}
	for _, s := range trace {
		ids[s.ID] = true
	}
	var roots []span
	for _, s := range trace {
		if s.ParentID == "" || !ids[s.ParentID] {
			roots = append(roots, s)
			continue
		}
		children[s.ParentID] = append(children[s.ParentID], s)
	}
	var print func(s span, depth int)
	print = func(s span, depth int) {
		lead := strings.Repeat("   ", depth)
		if depth > 0 {
			lead = strings.Repeat("   ", depth-1) + "└─ "
		}
		r.printf("   %-28s %-6s %-14s %8s  %s %s → %s\n", lead+s.LocalEndpoint.ServiceName, s.Kind, s.Name,
			(time.Duration(s.Duration) * time.Microsecond).Round(10*time.Microsecond), s.Tags["http.method"], s.Tags["http.url"], cmp.Or(s.Tags["http.status_code"], "-"))
		kids := children[s.ID]
		slices.SortFunc(kids, func(a, b span) int { return cmp.Compare(a.Timestamp, b.Timestamp) })
		for _, k := range kids {
			print(k, depth+1)
		}
	}
	slices.SortFunc(roots, func(a, b span) int { return cmp.Compare(a.Timestamp, b.Timestamp) })
	for _, s := range roots {
		print(s, 0)
	}
}

// waitForChain polls Zipkin (the sidecars send spans in batches, every
// few seconds) for the latest trace in which web's sidecar served a /call
// whose request to orders v1 answered 200, and orders' sidecar reported it.
func waitForChain(r *runner, z *zipkin) []span {
	deadline := time.Now().Add(45 * time.Second)
	for {
		traces, err := z.traces("web.demo")
		if err != nil {
			r.Fatal(err)
		}
		var best []span
		for _, t := range traces {
			if isChain(t) && (best == nil || t[0].Timestamp > best[0].Timestamp) {
				best = t
			}
		}
		if best != nil {
			return best
		}
		if r.ctx.Err() != nil {
			r.stop()
		}
		if time.Now().After(deadline) {
			r.Fatalf("no trace users → web → orders in Zipkin after 45s (%d traces of web.demo)", len(traces))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// isChain: web SERVER (a /call) → web CLIENT to orders:8080 → orders
// SERVER, all answered 200. Zipkin returns a trace's spans sorted by time.
func isChain(t []span) bool {
	find := func(service, kind, parent string, ok func(span) bool) *span {
		for i, s := range t {
			if s.LocalEndpoint.ServiceName == service && s.Kind == kind && (parent == "" || s.ParentID == parent) && ok(s) {
				return &t[i]
			}
		}
		return nil
	}
	is200 := func(s span) bool { return s.Tags["http.status_code"] == "200" }
	in := find("web.demo", "SERVER", "", func(s span) bool { return is200(s) && strings.Contains(s.Tags["http.url"], "/call?") })
	if in == nil {
		return false
	}
	out := find("web.demo", "CLIENT", in.ID, func(s span) bool { return is200(s) && strings.Contains(s.Tags["http.url"], "//orders:8080/") })
	return out != nil && find("orders.demo", "SERVER", out.ID, is200) != nil
}
