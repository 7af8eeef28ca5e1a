package inject

import (
	"bytes"
	stdcmp "cmp"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	jsonpatchapply "github.com/evanphx/json-patch/v5"
	"github.com/google/go-cmp/cmp"
	apiserverpatch "gopkg.in/evanphx/json-patch.v4"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/planeless/planeless/tests/need"
)

// corpus returns the pod (as JSON, the way the API server sends it) of
// every pod-bearing object of the corpus and of the golden inputs, by name.
func corpus(t *testing.T) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(need.RepoRoot(), "tests", "corpus", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range inputs(t) {
		files = append(files, in)
	}
	pods := map[string][]byte{}
	for _, file := range files {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		var add func(obj *unstructured.Unstructured) error
		add = func(obj *unstructured.Unstructured) error {
			if obj.IsList() {
				items, _, _ := unstructured.NestedSlice(obj.Object, "items")
				for _, item := range items {
					if err := add(&unstructured.Unstructured{Object: item.(map[string]any)}); err != nil {
						return err
					}
				}
			}
			if !PodBearing(obj.GetKind()) {
				return nil
			}
			raw, err := podJSON(obj)
			if err != nil {
				return err
			}
			pods[filepath.Base(file)+"/"+obj.GetKind()+"/"+obj.GetName()+obj.GetGenerateName()] = raw
			return nil
		}
		err = eachDocument(f, func(_ []byte, obj *unstructured.Unstructured) error {
			if obj == nil {
				return nil
			}
			return add(obj)
		})
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
	}
	if len(pods) < 10 {
		t.Fatalf("the corpus holds only %d pods", len(pods))
	}
	return pods
}

// podJSON is the pod of a pod-bearing object, as the webhook sees it.
func podJSON(obj *unstructured.Unstructured) ([]byte, error) {
	path := templatePaths[obj.GetKind()]
	if path == nil {
		return json.Marshal(obj.Object)
	}
	raw, _, err := templatePod(obj, path)
	return raw, err
}

// apply applies the JSON patch ops to raw.
func apply(t *testing.T, raw []byte, ops any) []byte {
	t.Helper()
	opsJSON, err := json.Marshal(ops)
	if err != nil {
		t.Fatal(err)
	}
	patch, err := jsonpatchapply.DecodePatch(opsJSON)
	if err != nil {
		t.Fatalf("decoding the patch: %v", err)
	}
	out, err := patch.Apply(raw)
	if err != nil {
		t.Fatalf("the patch does not apply: %v\n%s", err, opsJSON)
	}
	return out
}

// sameJSON compares two JSON documents as values.
func sameJSON(t *testing.T, want, got []byte) {
	t.Helper()
	var w, g any
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(w, g); diff != "" {
		t.Errorf("documents differ (-want +got):\n%s", diff)
	}
}

// The webhook's patch, applied to the request's object by the API
// server's own JSON patch implementation (evanphx/json-patch v4, as
// kube-apiserver applies a webhook's answer), gives exactly the pod
// `planeless inject` prints: on every corpus workload, in both modes (CNI
// mode inserts its check first, also without native sidecars).
func TestPatchGivesWhatInjectPrints(t *testing.T) {
	for name, raw := range corpus(t) {
		for mode, injector := range map[string]func() *Injector{"init mode": New, "CNI mode": cniInjector} {
			t.Run(name+"/"+mode, func(t *testing.T) {
				testPatchGivesWhatInjectPrints(t, injector(), raw)
			})
		}
	}
}

func testPatchGivesWhatInjectPrints(t *testing.T, i *Injector, raw []byte) {
	t.Helper()
	printed, res, err := i.Pod(t.Context(), raw, "corpus")
	if err != nil {
		t.Fatal(err)
	}
	ops, patchRes, err := i.Patch(t.Context(), raw, "corpus")
	if err != nil {
		t.Fatal(err)
	}
	if res.Skipped != "" || patchRes.Skipped != "" {
		if printed != nil || ops != nil || res.Skipped != patchRes.Skipped {
			t.Errorf("a skipped pod got output or a patch, or two reasons: %q, %q", res.Skipped, patchRes.Skipped)
		}
		return
	}
	encoded, err := json.Marshal(ops)
	if err != nil {
		t.Fatal(err)
	}
	patch, err := apiserverpatch.DecodePatch(encoded)
	if err != nil {
		t.Fatalf("the API server cannot read the patch: %v", err)
	}
	applied, err := patch.Apply(raw)
	if err != nil {
		t.Fatalf("the API server cannot apply the patch: %v\n%s", err, encoded)
	}
	sameJSON(t, printed, applied)
}

// What Pod returns decodes to exactly the typed injection of the pod: the
// merge onto the raw object loses nothing injection did.
func TestInjectedPodIsTheTypedInjection(t *testing.T) {
	for name, raw := range corpus(t) {
		t.Run(name, func(t *testing.T) {
			var want corev1.Pod
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatal(err)
			}
			own := want.Namespace
			want.Namespace = stdcmp.Or(own, "corpus")
			res, err := New().Inject(&want)
			if err != nil {
				t.Fatal(err)
			}
			want.Namespace = own
			out, outRes, err := New().Pod(t.Context(), raw, "corpus")
			if err != nil {
				t.Fatal(err)
			}
			if res.Skipped != "" {
				if out != nil || outRes.Skipped != res.Skipped {
					t.Errorf("the typed injection skipped the pod (%s), Pod returned %d bytes (skipped %q)", res.Skipped, len(out), outRes.Skipped)
				}
				return
			}
			var got corev1.Pod
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(&want, &got); diff != "" {
				t.Errorf("decoded output differs from the typed injection (-typed +output):\n%s", diff)
			}
		})
	}
}

// Injection changes what it adds and nothing else: what the user wrote
// stays as written, including what this binary's types do not know and
// empty objects, and none of it leaks into planeless' containers.
func TestInjectionKeepsWhatItDoesNotChange(t *testing.T) {
	raw := []byte(`{"apiVersion":"v1","kind":"Pod",
		"metadata":{"name":"p","namespace":"n","annotations":{"a":"b"}},
		"spec":{
			"someFieldFromTheFuture":{"kept":true},
			"securityContext":{},
			"initContainers":[{"name":"migrate","image":"m","workingDir":"/w","securityContext":{},"futureField":1}],
			"containers":[{"name":"app","image":"a","ports":[{"containerPort":80}],"resources":{}}],
			"volumes":[{"name":"scratch","emptyDir":{}}]}}`)
	out, _, err := New().Pod(t.Context(), raw, "n")
	if err != nil {
		t.Fatal(err)
	}
	var pod map[string]any
	if err := json.Unmarshal(out, &pod); err != nil {
		t.Fatal(err)
	}
	spec := pod["spec"].(map[string]any)
	container := func(list, name string) map[string]any {
		for _, c := range spec[list].([]any) {
			if c.(map[string]any)["name"] == name {
				return c.(map[string]any)
			}
		}
		t.Fatalf("no %s %s", list, name)
		return nil
	}
	tests := map[string]struct {
		got  any
		want any
	}{
		"an unknown field of the pod survives":        {spec["someFieldFromTheFuture"], map[string]any{"kept": true}},
		"the pod's empty security context survives":   {spec["securityContext"], map[string]any{}},
		"the user's empty emptyDir survives":          {spec["volumes"].([]any)[0], map[string]any{"name": "scratch", "emptyDir": map[string]any{}}},
		"the user's init container is as written":     {container("initContainers", "migrate"), map[string]any{"name": "migrate", "image": "m", "workingDir": "/w", "securityContext": map[string]any{}, "futureField": 1.0}},
		"the user's container is as written":          {container("containers", "app"), map[string]any{"name": "app", "image": "a", "ports": []any{map[string]any{"containerPort": 80.0}}, "resources": map[string]any{}}},
		"no user field leaks into the init container": {container("initContainers", InitName)["workingDir"], nil},
		"no typed default is added to the metadata":   {pod["metadata"].(map[string]any)["creationTimestamp"], nil},
		"the user's annotation stays":                 {pod["metadata"].(map[string]any)["annotations"].(map[string]any)["a"], "b"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	ops, _, err := New().Patch(t.Context(), raw, "n")
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, out, apply(t, raw, ops))
}

// Manifests without a namespace take the one given (inject -n), else
// default, as kubectl does; a manifest's own namespace wins.
func TestNamespaceOfManifestsWithoutOne(t *testing.T) {
	pod := "apiVersion: v1\nkind: Pod\nmetadata: {name: p%s}\nspec: {containers: [{name: a, image: a, ports: [{containerPort: 80}]}]}\n"
	tests := map[string]struct {
		manifest, namespace, wantNode string
	}{
		"no namespace anywhere is default":   {fmtPod(pod, ""), "", `"id":"p.default"`},
		"the namespace given places the pod": {fmtPod(pod, ""), "shop", `"id":"p.shop"`},
		"the manifest's own namespace wins":  {fmtPod(pod, ", namespace: own"), "shop", `"id":"p.own"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			obj, err := FirstPodBearing(strings.NewReader(tc.manifest))
			if err != nil {
				t.Fatal(err)
			}
			config, _, err := New().Bootstrap(obj, tc.namespace)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(config, []byte(tc.wantNode)) {
				t.Errorf("the bootstrap's node is not %s:\n%.300s", tc.wantNode, config)
			}
			var out bytes.Buffer
			if err := New().Manifests(strings.NewReader(tc.manifest), &out, tc.namespace, func(string) {}); err != nil {
				t.Fatal(err)
			}
			var written struct {
				Metadata struct {
					Namespace string `json:"namespace"`
				} `json:"metadata"`
			}
			if err := yaml.Unmarshal(out.Bytes(), &written); err != nil {
				t.Fatal(err)
			}
			var in struct {
				Metadata struct {
					Namespace string `json:"namespace"`
				} `json:"metadata"`
			}
			_ = yaml.Unmarshal([]byte(tc.manifest), &in)
			if written.Metadata.Namespace != in.Metadata.Namespace {
				t.Errorf("inject wrote namespace %q into a manifest that said %q", written.Metadata.Namespace, in.Metadata.Namespace)
			}
		})
	}
}

func fmtPod(format, extra string) string { return strings.Replace(format, "%s", extra, 1) }
