package inject

import (
	stdcmp "cmp"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	jsonpatchapply "github.com/evanphx/json-patch/v5"
	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	k8sjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// FuzzPatch runs the whole mutate path on arbitrary pod JSON: it never
// panics, every patch applies to the raw pod, the patched pod still decodes,
// is injected and is exactly the typed injection of the pod, and patching
// it again changes nothing.
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
		if err := k8sjson.UnmarshalCaseSensitivePreserveInts(patched, &pod); err != nil {
			t.Fatalf("patched pod does not decode: %v", err)
		}
		if !Injected(&pod) {
			t.Fatalf("patched pod is not injected: %s", patched)
		}
		// The operations, built from what injection added, give what the
		// typed injection of the pod gives.
		var typed corev1.Pod
		if err := k8sjson.UnmarshalCaseSensitivePreserveInts(raw, &typed); err != nil {
			t.Fatal(err)
		}
		own := typed.Namespace
		typed.Namespace = stdcmp.Or(own, "fuzz")
		if _, err := injector.Inject(&typed); err != nil {
			t.Fatalf("the typed injection fails where the patch did not: %v", err)
		}
		typed.Namespace = own
		if diff := cmp.Diff(&typed, &pod); diff != "" {
			t.Fatalf("the patched pod differs from the typed injection (-typed +patched):\n%s\npatch: %s", diff, opsJSON)
		}
		again, res, err := injector.Patch(t.Context(), patched, "fuzz")
		if err != nil || len(again) > 0 || res.Skipped != SkipInjected {
			t.Fatalf("second patch: ops=%v skipped=%q err=%v", again, res.Skipped, err)
		}
	})
}
