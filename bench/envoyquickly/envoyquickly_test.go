package envoyquickly_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/planeless/planeless/bench/envoyquickly"
	_ "github.com/planeless/planeless/tests/golden"
	"github.com/planeless/planeless/tests/need"
)

// The baseline must be what the real Envoy loads: a translation that
// Envoy rejected would leave the benchmark comparing with nothing.
func TestTheRealEnvoyAcceptsTheTranslation(t *testing.T) {
	envoy := need.Envoy(t)
	file := filepath.Join(t.TempDir(), "envoy.yaml")
	if err := os.WriteFile(file, []byte(envoyquickly.Config), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(t.Context(), envoy, "--mode", "validate", "-c", file).CombinedOutput()
	if err != nil {
		t.Fatalf("envoy --mode validate: %v\n%s", err, out)
	}
}
