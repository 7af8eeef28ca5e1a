package webhook

import (
	"encoding/json"
	"testing"

	"gomodules.xyz/jsonpatch/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func testOps() []jsonpatch.JsonPatchOperation {
	return []jsonpatch.JsonPatchOperation{
		jsonpatch.NewOperation("add", "/metadata/annotations/planeless.dev~1bootstrap", `{"admin":{"address":"<&>"}}`),
		jsonpatch.NewOperation("add", "/metadata/annotations", map[string]string{"b": "2", "a": `{"x":1}`}),
		jsonpatch.NewOperation("add", "/metadata", map[string]any{"annotations": map[string]string{"k": "v"}}),
		jsonpatch.NewOperation("replace", "/spec/containers/0/livenessProbe/tcpSocket/port", 15100),
		jsonpatch.NewOperation("add", "/spec/containers/0", &corev1.Container{
			Name: "planeless-proxy",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse("100m"),
			}},
		}),
	}
}

// What encodePatch writes is what encoding/json writes for the same
// operations, whether or not a string comes already quoted.
func TestThePatchIsEncodedAsEncodingJSONWould(t *testing.T) {
	type operation struct {
		Op    string `json:"op"`
		Path  string `json:"path"`
		Value any    `json:"value"`
	}
	var plain []operation
	for _, op := range testOps() {
		plain = append(plain, operation{op.Operation, op.Path, op.Value})
	}
	want, err := json.Marshal(plain)
	if err != nil {
		t.Fatal(err)
	}
	for name, q := range map[string]quoter{
		"nothing quoted":      func(string) ([]byte, bool) { return nil, false },
		"every string quoted": func(s string) ([]byte, bool) { b, _ := json.Marshal(s); return b, true },
	} {
		got, err := encodePatch(testOps(), q)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
	}
}

// A string the quoter has is written as it gives it, not encoded again:
// in annotations added one by one, whole, or in a new metadata.
func TestAQuotedStringIsWrittenAsTheQuoterHasIt(t *testing.T) {
	marked := []byte(`"\u0062ootstrap"`) // "bootstrap", escaped as encoding/json would not
	q := func(s string) ([]byte, bool) { return marked, s == "bootstrap" }
	ops := []jsonpatch.JsonPatchOperation{
		jsonpatch.NewOperation("add", "/metadata/annotations/x", "bootstrap"),
		jsonpatch.NewOperation("add", "/metadata/annotations", map[string]string{"x": "bootstrap"}),
		jsonpatch.NewOperation("add", "/metadata", map[string]any{"annotations": map[string]string{"x": "bootstrap"}}),
	}
	got, err := encodePatch(ops, q)
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"op":"add","path":"/metadata/annotations/x","value":"\u0062ootstrap"},` +
		`{"op":"add","path":"/metadata/annotations","value":{"x":"\u0062ootstrap"}},` +
		`{"op":"add","path":"/metadata","value":{"annotations":{"x":"\u0062ootstrap"}}}]`
	if string(got) != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
	var decoded []map[string]any
	if err := json.Unmarshal(got, &decoded); err != nil || decoded[0]["value"] != "bootstrap" {
		t.Errorf("the patch does not decode to the string: %v %v", err, decoded)
	}
}

func TestAnOperationWithoutAValueIsRefused(t *testing.T) {
	if _, err := encodePatch([]jsonpatch.JsonPatchOperation{jsonpatch.NewOperation("remove", "/a", nil)}, nil); err == nil {
		t.Error("a remove operation was encoded")
	}
}
