package templates

import (
	"testing"

	_ "github.com/planeless/planeless/tests/golden"
)

// The built-in templates name the images of the versions in versions.go.
func TestBuiltInImagesAreTheVersions(t *testing.T) {
	set := Default()
	if set.Proxy.Image != ProxyImage {
		t.Errorf("proxy.yaml's image is %s, want %s (templates.EnvoyVersion)", set.Proxy.Image, ProxyImage)
	}
	if set.Init.Image != Image {
		t.Errorf("init.yaml's image is %s, want %s (templates.Version)", set.Init.Image, Image)
	}
}

// Every injected container has a CPU limit by default, so that a namespace
// whose ResourceQuota requires limits.cpu admits injected pods; the proxy's
// is two cores, its default worker threads.
func TestBuiltInTemplatesLimitCPUAndMemory(t *testing.T) {
	set := Default()
	for name, c := range map[string]struct {
		cpu, memory string
	}{ProxyFile: {set.Proxy.Resources.Limits.Cpu().String(), set.Proxy.Resources.Limits.Memory().String()},
		InitFile: {set.Init.Resources.Limits.Cpu().String(), set.Init.Resources.Limits.Memory().String()}} {
		if c.cpu == "0" || c.memory == "0" {
			t.Errorf("%s limits cpu %s and memory %s, want both set", name, c.cpu, c.memory)
		}
	}
	if got := set.Proxy.Resources.Limits.Cpu().String(); got != "2" {
		t.Errorf("the proxy's CPU limit is %s, want 2", got)
	}
}

func TestLoadRefusesAMissingFolder(t *testing.T) {
	if _, err := Load(t.TempDir() + "/missing"); err == nil {
		t.Error("a missing templates folder gave the defaults")
	}
	set, err := Load(t.TempDir())
	if err != nil || set.Proxy.Image != ProxyImage {
		t.Errorf("an empty folder does not keep the defaults: %v", err)
	}
}
