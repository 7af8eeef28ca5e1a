package dataplane

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/planeless/planeless/bench/proc"
	"github.com/planeless/planeless/tests/harness"
	"github.com/planeless/planeless/tests/need"
)

// TestAblation is `make bench-ablation`: it only runs when BENCH_ABLATION
// names the JSON file to write.
func TestAblation(t *testing.T) {
	out := os.Getenv("BENCH_ABLATION")
	if out == "" {
		t.Skip("set BENCH_ABLATION=<file> to price the parts of the sidecar (make bench-ablation does)")
	}
	injected := map[string]*corev1.Pod{}
	for _, p := range harness.Inject(t, filepath.Join(need.RepoRoot(), "bench", "dataplane", "testdata", "pods.yaml")) {
		injected[p.Name] = p
	}
	b := &Bench{H: harness.New(t)}
	b.BenchloadBin = build(t, b.H.Dir(), "./bench/cmd/benchload")
	b.Envoy = envoyCopy(t, b.H.Dir())
	for i, v := range Variants {
		server, client := fmt.Sprintf("a%d-server", i), fmt.Sprintf("a%d-client", i)
		sp, err := Ablated(injected["p-server"], server, v.Server)
		if err != nil {
			t.Fatal(err)
		}
		cp, err := Ablated(injected["p-client"], client, v.Client)
		if err != nil {
			t.Fatal(err)
		}
		p := &Path{Name: v.Name, URL: "http://" + server + ":8080/", Target: server + ":8080"}
		p.Server = b.H.Start(t, sp, harness.PodOptions{Apps: map[string][]string{"web": appArgs(server)}})
		p.Client = b.H.Start(t, cp, harness.PodOptions{Apps: map[string][]string{"web": {"rest", "-listen", ":8081"}}})
		b.Paths = append(b.Paths, p)
	}
	eq := &Path{Name: EnvoyQuickly, URL: "http://q-server:8080/", Target: "q-server:8080"}
	eq.Server = b.H.Plain(t, "q-server", harness.PodOptions{Apps: map[string][]string{"web": appArgs("q-server")}})
	eq.Client = b.H.Plain(t, "q-client", harness.PodOptions{})
	for _, p := range []*harness.Pod{eq.Server, eq.Client} {
		b.startEnvoyQuickly(t, p)
	}
	b.Paths = append(b.Paths, eq)

	a := &Ablation{Date: time.Now().UTC().Format("2006-01-02 15:04"), LoadAvg: proc.LoadAverage(), Rate: 1000, Rounds: 6, RoundSeconds: 3}
	rows, err := b.Ablate(t.Context(), []string{"http", "grpc"}, a.Rate, a.Rounds, time.Duration(a.RoundSeconds*float64(time.Second)))
	if err != nil {
		t.Fatal(err)
	}
	a.Rows = rows
	for _, r := range rows {
		if r.Errors > 0 {
			t.Errorf("%s %s: %d errors", r.Path, r.Mode, r.Errors)
		}
		t.Logf("%-4s %-36s client %.3f s, server %.3f s CPU per 1,000; p50 %.2f ms, p99 %.2f ms",
			r.Mode, r.Path, r.ClientCPUPer1000, r.ServerCPUPer1000, r.Latency.P50, r.Latency.P99)
	}
	data, err := json.MarshalIndent(a, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, append(data, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Each cut takes out exactly the parts it names, from every connection
// manager of the bootstrap planeless renders, and nothing else.
func TestCutsTakeOutWhatTheyName(t *testing.T) {
	var pod *corev1.Pod
	for _, p := range harness.Inject(t, filepath.Join(need.RepoRoot(), "bench", "dataplane", "testdata", "pods.yaml")) {
		if p.Name == "p-client" {
			pod = p
		}
	}
	count := func(p *corev1.Pod) map[string]int {
		var b map[string]any
		if err := json.Unmarshal([]byte(p.Annotations[harness.BootstrapAnnotation]), &b); err != nil {
			t.Fatal(err)
		}
		n := map[string]int{}
		eachObject(b, func(o map[string]any) {
			for _, list := range []string{"http_filters", "access_log"} {
				items, _ := o[list].([]any)
				for _, item := range items {
					if m, ok := item.(map[string]any); ok {
						n[fmt.Sprint(m["name"])]++
					}
				}
			}
		})
		return n
	}
	whole := count(pod)
	for _, name := range []string{statsLogger, stdoutLogger, grpcStatsFilter} {
		if whole[name] == 0 {
			t.Fatalf("the rendered client bootstrap has no %s to cut", name)
		}
	}
	const all = -1
	gone := map[string]map[string]int{ // how many fewer in the client's bootstrap, by variant
		Whole:       nil,
		NoTagRules:  nil,
		NoMetrics:   {statsLogger: all},
		NoAccessLog: {stdoutLogger: all},
		NoneOfThem:  {grpcStatsFilter: all, statsLogger: all, stdoutLogger: all},
	}
	rules := strings.Count(pod.Annotations[harness.BootstrapAnnotation], "TransformStat")
	if rules == 0 {
		t.Fatal("the rendered client bootstrap has no tag rules to cut")
	}
	for _, v := range Variants {
		fewer, ok := gone[v.Name]
		if !ok {
			t.Fatalf("variant %q: say here what it cuts", v.Name)
		}
		cut, err := Ablated(pod, "cut", v.Client)
		if err != nil {
			t.Fatal(err)
		}
		got := count(cut)
		for name, n := range whole {
			want := n
			if _, ok := fewer[name]; ok {
				want = 0
			}
			if got[name] != want {
				t.Errorf("%s: %d × %s left, want %d", v.Name, got[name], name, want)
			}
		}
		b := cut.Annotations[harness.BootstrapAnnotation]
		wantRules := rules
		if v.Name == NoTagRules || v.Name == NoMetrics || v.Name == NoneOfThem {
			wantRules = 0 // cut, or gone with the stats loggers
		}
		if strings.Contains(b, "filter_disabled") != strings.Contains(pod.Annotations[harness.BootstrapAnnotation], "filter_disabled") {
			t.Errorf("%s: cut the HTTP inspector's rules too", v.Name)
		}
		if n := strings.Count(b, "TransformStat"); n != wantRules {
			t.Errorf("%s: %d tag rules left, want %d", v.Name, n, wantRules)
		}
	}
}
