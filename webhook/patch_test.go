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
// operations.
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
	got, err := encodePatch(testOps())
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("got %s\nwant %s", got, want)
	}
}

func TestAnOperationWithoutAValueIsRefused(t *testing.T) {
	if _, err := encodePatch([]jsonpatch.JsonPatchOperation{jsonpatch.NewOperation("remove", "/a", nil)}); err == nil {
		t.Error("a remove operation was encoded")
	}
}
