package inject

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	jsonpatchapply "github.com/evanphx/json-patch/v5"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// FuzzPatch runs the whole mutate path on arbitrary pod JSON: it never
// panics, every patch applies to the raw pod, the patched pod still decodes
// and is injected, and patching it again changes nothing.
func FuzzPatch(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.pod.yaml")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		js, err := yaml.YAMLToJSON(b)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(js)
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"spec":{"containers":[{"name":"a","ports":[{"containerPort":70000}]}]}}`))
	f.Add([]byte(`{"metadata":{"annotations":{"planeless.dev/ports":"1:grpc,2:tcp"}},"spec":{"containers":null}}`))
	f.Add([]byte(`null`))

	injector := New()
	f.Fuzz(func(t *testing.T, raw []byte) {
		ops, res, err := injector.Patch(t.Context(), raw, "fuzz")
		if err != nil || res.Skipped != "" {
			return
		}
		opsJSON, err := json.Marshal(ops)
		if err != nil {
			t.Fatalf("encoding patch: %v", err)
		}
		patch, err := jsonpatchapply.DecodePatch(opsJSON)
		if err != nil {
			t.Fatalf("decoding patch: %v", err)
		}
		patched, err := patch.Apply(raw)
		if err != nil {
			t.Fatalf("patch does not apply: %v\npatch: %s", err, opsJSON)
		}
		var pod corev1.Pod
		if err := json.Unmarshal(patched, &pod); err != nil {
			t.Fatalf("patched pod does not decode: %v", err)
		}
		if !Injected(&pod) {
			t.Fatalf("patched pod is not injected: %s", patched)
		}
		again, res, err := injector.Patch(t.Context(), patched, "fuzz")
		if err != nil || len(again) > 0 || res.Skipped != SkipInjected {
			t.Fatalf("second patch: ops=%v skipped=%q err=%v", again, res.Skipped, err)
		}
	})
}
