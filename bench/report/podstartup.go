package report

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/planeless/planeless/bench/podstart"
)

func podStartupSection(p printer, r *podstart.Result) {
	p("## 5. Pod start-up on a real node")
	p("")
	p("On the one-node cluster of `tests/node` (etcd, the API server, scheduler, controller manager, kubelet,")
	p("containerd and runc on this machine; planeless installed by its Helm chart), `TestBenchStartup` creates the")
	p("same pod (the test app, already imported on the node, no probes of its own) %d times injected and %d times", r.Pods, r.Pods)
	p("uninjected (the `planeless.dev/inject: \"false\"` label keeps it from the webhook), one at a time, alternating,")
	p("each deleted and gone before the next, after %d untimed pod(s) of each kind. Times are on the client's clock, from", r.Warmup)
	p("sending the Create call (admission included) to the first watch event showing each step: the pod's own")
	p("timestamps have 1 s resolution.")
	p("")
	p("| pod | create to Ready p50 | p90 | max | Create call p50 | scheduled p50 | initialized p50 |")
	p("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, k := range []struct {
		name string
		s    podstart.Summary
	}{{"uninjected", r.Uninjected}, {"injected", r.Injected}} {
		p("| %s | %.0f ms | %.0f ms | %.0f ms | %.0f ms | %.0f ms | %.0f ms |", k.name, k.s.MedianMS, k.s.P90MS, k.s.MaxMS,
			k.s.CreateMedianMS, k.s.ScheduledMedianMS, k.s.InitializedMedianMS)
	}
	p("")
	p("Added by the sidecar (injected − uninjected medians, create to Ready): **%.0f ms**.", r.AddedMS)
	p("")
	p("\"Initialized\" is when every init container has run and every native sidecar has started and its postStart")
	p("hook has returned (the kubelet runs the app only then). When the kubelet says each container started, in seconds")
	p("after the pod's creation (medians; both timestamps have 1 s resolution): injected %s; uninjected %s.",
		starts(r.Injected.KubeletStartedMedianS), starts(r.Uninjected.KubeletStartedMedianS))
	p("")
}

// starts lists each container's start, earliest first.
func starts(m map[string]float64) string {
	if len(m) == 0 {
		return "–"
	}
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	slices.SortFunc(names, func(a, b string) int {
		return cmp.Or(cmp.Compare(m[a], m[b]), strings.Compare(a, b))
	})
	var out []string
	for _, name := range names {
		out = append(out, fmt.Sprintf("%s +%.1f s", name, m[name]))
	}
	return strings.Join(out, ", ")
}
