package dataplane

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/planeless/planeless/tests/harness"
	"github.com/planeless/planeless/tests/need"
)

// TestEnvoyAcceptsTheBootstrapOfEveryWorkload injects the corpus and this
// package's pods with `planeless inject` and runs `envoy --mode validate`
// on the bootstrap each pod carries.
func TestEnvoyAcceptsTheBootstrapOfEveryWorkload(t *testing.T) {
	t.Parallel()
	envoy := need.Envoy(t)
	corpus, err := filepath.Glob(filepath.Join(need.RepoRoot(), "tests", "corpus", "*.yaml"))
	if err != nil || len(corpus) == 0 {
		t.Fatalf("no corpus under tests/corpus (%v)", err)
	}
	for _, manifest := range append(corpus, filepath.Join("testdata", "pods.yaml"), filepath.Join("testdata", "policy.yaml")) {
		pods := harness.Inject(t, manifest)
		if len(pods) == 0 {
			t.Fatalf("planeless inject -f %s returned no pods", manifest)
		}
		for _, pod := range pods {
			t.Run(filepath.Base(manifest)+"/"+pod.Namespace+"/"+pod.Name, func(t *testing.T) {
				t.Parallel()
				bootstrap := pod.Annotations[harness.BootstrapAnnotation]
				if bootstrap == "" {
					t.Fatalf("the injected pod has no %s annotation", harness.BootstrapAnnotation)
				}
				file := filepath.Join(t.TempDir(), "bootstrap.yaml")
				if err := os.WriteFile(file, []byte(bootstrap), 0o644); err != nil {
					t.Fatal(err)
				}
				out, err := exec.CommandContext(t.Context(), envoy, "--mode", "validate", "-c", file, "--log-level", "warning").CombinedOutput()
				if err != nil {
					t.Errorf("envoy --mode validate: %v\n%s", err, out)
				}
			})
		}
	}
}
