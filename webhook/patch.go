package webhook

import (
	"encoding/json"
	"fmt"

	"gomodules.xyz/jsonpatch/v2"
	admissionv1 "k8s.io/api/admission/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// operation is a JSON patch operation as the API server reads it. The
// webhook encodes the patch itself, once: controller-runtime would encode
// each jsonpatch.JsonPatchOperation through its MarshalJSON, and
// encoding/json then re-reads and compacts every operation's output, the
// 25 KB bootstrap annotation included.
type operation struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value"`
}

// patched allows the pod with ops as its JSON patch, encoded once.
func patched(message string, ops []jsonpatch.JsonPatchOperation) (admission.Response, error) {
	out := make([]operation, len(ops))
	for i, op := range ops {
		if op.Operation != "add" && op.Operation != "replace" {
			return admission.Response{}, fmt.Errorf("encoding the patch: operation %q carries no value", op.Operation)
		}
		out[i] = operation{Op: op.Operation, Path: op.Path, Value: op.Value}
	}
	patch, err := json.Marshal(out)
	if err != nil {
		return admission.Response{}, fmt.Errorf("encoding the patch: %w", err)
	}
	resp := admission.Allowed(message)
	patchType := admissionv1.PatchTypeJSONPatch
	resp.Patch, resp.PatchType = patch, &patchType
	return resp, nil
}
