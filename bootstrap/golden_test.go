package bootstrap_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/planeless/planeless/bootstrap"
	"github.com/planeless/planeless/tests/golden"
	"github.com/planeless/planeless/tests/need"
)

func TestRenderMatchesGoldenFiles(t *testing.T) {
	for name, p := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := bootstrap.RenderYAML(specOf(t, p))
			if err != nil {
				t.Fatalf("RenderYAML: %v", err)
			}
			golden.Assert(t, filepath.Join("testdata", name+".yaml"), got)
		})
	}
}

// Envoy gets the JSON; people and the goldens read the YAML: both must be
// the same bootstrap.
func TestRenderAndRenderYAMLAreTheSameBootstrap(t *testing.T) {
	for name, p := range cases {
		t.Run(name, func(t *testing.T) {
			js, err := bootstrap.Render(specOf(t, p))
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if !json.Valid(js) || bytes.ContainsAny(js, "\n\t") {
				t.Fatalf("Render is not compact JSON:\n%.300s", js)
			}
			fromJSON, err := yaml.JSONToYAML(js)
			if err != nil {
				t.Fatal(err)
			}
			y, err := bootstrap.RenderYAML(specOf(t, p))
			if err != nil {
				t.Fatalf("RenderYAML: %v", err)
			}
			if !bytes.Equal(fromJSON, y) {
				t.Error("Render and RenderYAML describe different bootstraps")
			}
		})
	}
}

func TestRenderIsDeterministic(t *testing.T) {
	for name, p := range cases {
		t.Run(name, func(t *testing.T) {
			s := specOf(t, p)
			first, err := bootstrap.Render(s)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			for range 5 {
				again, err := bootstrap.Render(specOf(t, p))
				if err != nil {
					t.Fatalf("Render: %v", err)
				}
				if !bytes.Equal(first, again) {
					t.Fatalf("two renders of the same spec differ")
				}
			}
		})
	}
}

// TestEnvoyAcceptsEveryGoldenFile runs the real Envoy's config validation on
// every bootstrap kept in testdata/.
func TestEnvoyAcceptsEveryGoldenFile(t *testing.T) {
	envoy := need.Envoy(t)
	files, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < len(cases) {
		t.Fatalf("found %d golden files, want at least %d (run `go test ./bootstrap -update`)", len(files), len(cases))
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			cmd := exec.CommandContext(t.Context(), envoy, "--mode", "validate", "--disable-hot-restart", "--log-level", "warn", "-c", file)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("envoy --mode validate -c %s: %v\n%s", file, err, out)
			}
			// Deprecated fields are removed by later Envoy versions.
			if bytes.Contains(out, []byte("Deprecated field")) || bytes.Contains(out, []byte("deprecated option")) {
				t.Errorf("envoy warns about deprecated configuration in %s:\n%s", file, out)
			}
		})
	}
}

// TestEnvoyAcceptsEveryRenderedBootstrap runs the real Envoy's config
// validation on Render's JSON, what the pod's annotation hands the proxy,
// for every golden case: the goldens are protojson's, Render prints with
// its own printer.
func TestEnvoyAcceptsEveryRenderedBootstrap(t *testing.T) {
	envoy := need.Envoy(t)
	dir := t.TempDir()
	for name, p := range cases {
		t.Run(name, func(t *testing.T) {
			js, err := bootstrap.Render(specOf(t, p))
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			file := filepath.Join(dir, name+".json")
			if err := os.WriteFile(file, js, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Parallel()
			cmd := exec.CommandContext(t.Context(), envoy, "--mode", "validate", "--disable-hot-restart", "--log-level", "warn", "-c", file)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("envoy --mode validate -c %s: %v\n%s", file, err, out)
			}
		})
	}
}
