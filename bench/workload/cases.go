package workload

import (
	"encoding/json"
	"fmt"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	corev1 "k8s.io/api/core/v1"

	"github.com/planeless/planeless/bootstrap"
	"github.com/planeless/planeless/inject"
	"github.com/planeless/planeless/proxy"
)

// Case is one Go benchmark of the admission path.
type Case struct {
	// Name is a path-like name: "patch/emojivoto", "render/ports-100".
	Name string
	Run  func(b *testing.B)
}

// ScalePorts are the intercepted-port counts of the scale benchmarks.
var ScalePorts = []int{1, 10, 100}

// BootstrapBytesUnit names the extra metric the render cases report: the
// size of the rendered bootstrap.
const BootstrapBytesUnit = "bootstrap-bytes"

// Cases returns the admission benchmarks: the whole mutate path
// (inject.Injector.Patch on raw JSON) for the emojivoto web pod and the
// large pod, as the first pod of its shape (patch/*: its bootstrap
// rendered) and as any later one (patch-cached/*: its bootstrap from the
// webhook's cache), and the render step alone (bootstrap.Render) for those
// and for 1, 10 and 100 intercepted ports.
func Cases(repoRoot string) ([]Case, error) {
	emojivoto, err := Emojivoto(repoRoot)
	if err != nil {
		return nil, err
	}
	inj := inject.New()
	cached := inject.New()
	cached.Bootstraps = bootstrap.NewCache(bootstrap.DefaultCacheBytes)
	cases := []Case{
		{"patch/emojivoto", patchCase(inj, emojivoto)},
		{"patch/large", patchCase(inj, Raw(Large()))},
		{"patch-cached/emojivoto", patchCase(cached, emojivoto)},
		{"patch-cached/large", patchCase(cached, Raw(Large()))},
	}
	pods := map[string]*corev1.Pod{"large": Large()}
	names := []string{"emojivoto", "large"}
	var ev corev1.Pod
	if err := json.Unmarshal(emojivoto, &ev); err != nil {
		return nil, fmt.Errorf("decoding the emojivoto pod: %w", err)
	}
	ev.Namespace = Namespace
	pods["emojivoto"] = &ev
	for _, n := range ScalePorts {
		name := fmt.Sprintf("ports-%d", n)
		pods[name] = Ports(n)
		names = append(names, name)
	}
	for _, name := range names {
		s, _, err := proxy.FromPod(pods[name], inj.Defaults)
		if err != nil {
			return nil, fmt.Errorf("spec of pod %s: %w", name, err)
		}
		cases = append(cases, Case{"render/" + name, renderCase(s)})
		if name == "emojivoto" {
			cases = append(cases,
				Case{"render-steps/build/" + name, buildCase(s)},
				Case{"render-steps/print/" + name, printCase(s)},
				Case{"render-steps/protojson/" + name, protojsonCase(s)},
				Case{"render-yaml/" + name, renderYAMLCase(s)},
			)
		}
	}
	return cases, nil
}

// The render steps, apart: building and validating the typed bootstrap
// (bootstrap.BuildTyped: its typed configs kept beside their Anys, not
// marshalled), and printing it as JSON (Typed.JSON). protojson is what
// printing cost before: protojson of bootstrap.Build's packed bootstrap,
// which resolves and unmarshals every Any again.

func buildCase(s *proxy.Spec) func(b *testing.B) {
	return func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := bootstrap.BuildTyped(s); err != nil {
				b.Fatalf("build: %v", err)
			}
		}
	}
}

func printCase(s *proxy.Spec) func(b *testing.B) {
	return func(b *testing.B) {
		t, err := bootstrap.BuildTyped(s)
		if err != nil {
			b.Fatalf("build: %v", err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := t.JSON(); err != nil {
				b.Fatalf("print: %v", err)
			}
		}
	}
}

func protojsonCase(s *proxy.Spec) func(b *testing.B) {
	return func(b *testing.B) {
		bs, err := bootstrap.Build(s)
		if err != nil {
			b.Fatalf("build: %v", err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := (protojson.MarshalOptions{UseProtoNames: true}).Marshal(bs); err != nil {
				b.Fatalf("protojson: %v", err)
			}
		}
	}
}

// renderYAMLCase is bootstrap.RenderYAML, the readable form `planeless
// render` prints (and the annotation's format before it became compact
// JSON): what the YAML conversion would cost at admission.
func renderYAMLCase(s *proxy.Spec) func(b *testing.B) {
	return func(b *testing.B) {
		b.ReportAllocs()
		var size int
		for b.Loop() {
			out, err := bootstrap.RenderYAML(s)
			if err != nil {
				b.Fatalf("render yaml: %v", err)
			}
			size = len(out)
		}
		b.ReportMetric(float64(size), BootstrapBytesUnit)
	}
}

func patchCase(inj *inject.Injector, raw []byte) func(b *testing.B) {
	return func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ops, res, err := inj.Patch(b.Context(), raw, Namespace)
			if err != nil || res.Skipped != "" || len(ops) == 0 {
				b.Fatalf("patch: %d ops, skipped %q, error %v", len(ops), res.Skipped, err)
			}
		}
	}
}

func renderCase(s *proxy.Spec) func(b *testing.B) {
	return func(b *testing.B) {
		b.ReportAllocs()
		var size int
		for b.Loop() {
			out, err := bootstrap.Render(s)
			if err != nil {
				b.Fatalf("render: %v", err)
			}
			size = len(out)
		}
		b.ReportMetric(float64(size), BootstrapBytesUnit)
	}
}
