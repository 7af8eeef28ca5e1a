package admission_test

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/planeless/planeless/bench/admission"
	"github.com/planeless/planeless/bench/workload"
	_ "github.com/planeless/planeless/tests/golden"
	"github.com/planeless/planeless/tests/need"
)

func webhookd(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "webhookd")
	cmd := exec.Command("go", "build", "-o", out, "./bench/cmd/webhookd")
	cmd.Dir = need.RepoRoot()
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the baseline: %v\n%s", err, b)
	}
	return out
}

// The numbers `make bench` reports are only worth something if every
// review it counts was really sent, really answered by the server it names,
// and checked: planeless's own metrics must count exactly the reviews the
// generator counts as injected, and the baseline must have allowed each.
func TestTheLoadGeneratorCountsWhatTheServersAnswered(t *testing.T) {
	pod, err := workload.Emojivoto(need.RepoRoot())
	if err != nil {
		t.Fatal(err)
	}
	const reviews = 300
	levels, err := admission.Run(t.Context(), admission.Config{
		Webhookd:    webhookd(t),
		Dir:         t.TempDir(),
		Pod:         pod,
		Concurrency: []int{1, 8},
		Reviews:     reviews,
		Warmup:      20,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range levels {
		for name, m := range map[string]admission.Measure{"baseline": l.Baseline, "planeless": l.Planeless} {
			if m.Sent != reviews || m.OK != reviews || m.Errors != 0 {
				t.Errorf("%s at concurrency %d: sent %d, ok %d, errors %d (first: %s); want %d answered correctly",
					name, l.Concurrency, m.Sent, m.OK, m.Errors, m.FirstError, reviews)
			}
			if m.RSSBytes == 0 || m.CPUSeconds <= 0 {
				t.Errorf("%s at concurrency %d: RSS %d bytes, CPU %.2fs: the server's process was not measured", name, l.Concurrency, m.RSSBytes, m.CPUSeconds)
			}
		}
		if l.Planeless.ServerCounted == nil || *l.Planeless.ServerCounted != l.Planeless.OK {
			t.Errorf("concurrency %d: planeless counted %v injections, the generator %d", l.Concurrency, l.Planeless.ServerCounted, l.Planeless.OK)
		}
		if l.Baseline.ServerCounted != nil {
			t.Errorf("concurrency %d: the baseline has metrics; it is not the baseline", l.Concurrency)
		}
	}
}

// A generator that would count the baseline's "allowed" as an injection
// (or the other way round) would report the wrong server: each answer is
// checked against the server the generator names.
func TestAnAnswerFromTheWrongServerIsAnError(t *testing.T) {
	dir := t.TempDir()
	cert, err := admission.NewCert(dir)
	if err != nil {
		t.Fatal(err)
	}
	baseline, err := admission.StartBaseline(webhookd(t), dir, cert)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(baseline.Stop)
	client := admission.NewClient(cert, workload.Raw(workload.Ports(1)), 1)
	defer client.Close()
	if err := baseline.WaitReady(t.Context(), client); err != nil {
		t.Fatal(err)
	}
	posingAsPlaneless := *baseline
	posingAsPlaneless.MetricsURL = "http://127.0.0.1:1/metrics"
	if err := client.Review(t.Context(), &posingAsPlaneless); err == nil {
		t.Error("the baseline's answer passed as planeless's injection")
	}
}
