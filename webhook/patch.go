package webhook

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	jsonv2 "github.com/go-json-experiment/json"
	jsonv1 "github.com/go-json-experiment/json/v1"
	"gomodules.xyz/jsonpatch/v2"
	admissionv1 "k8s.io/api/admission/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// The webhook encodes the patch itself, once. controller-runtime would
// encode each jsonpatch.JsonPatchOperation through its MarshalJSON, and
// encoding/json then re-reads and compacts every operation's output.

// patched allows the pod with ops as its JSON patch.
func patched(message string, ops []jsonpatch.JsonPatchOperation) (admission.Response, error) {
	patch, err := encodePatch(ops)
	if err != nil {
		return admission.Response{}, fmt.Errorf("encoding the patch: %w", err)
	}
	resp := admission.Allowed(message)
	patchType := admissionv1.PatchTypeJSONPatch
	resp.Patch, resp.PatchType = patch, &patchType
	return resp, nil
}

func encodePatch(ops []jsonpatch.JsonPatchOperation) ([]byte, error) {
	out := getBuffer(patchSizeHint(ops))
	out = append(out, '[')
	for i, op := range ops {
		if op.Operation != "add" && op.Operation != "replace" {
			return nil, fmt.Errorf("operation %q carries no value", op.Operation)
		}
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, `{"op":`...)
		out = appendString(out, op.Operation)
		out = append(out, `,"path":`...)
		out = appendString(out, op.Path)
		out = append(out, `,"value":`...)
		var err error
		if out, err = appendValue(out, op.Value); err != nil {
			return nil, err
		}
		out = append(out, '}')
	}
	return append(out, ']'), nil
}

// patchSizeHint is about the size of ops encoded: the bootstrap alone
// is tens of kilobytes, and growing the patch to it copies it several
// times over. Strings are counted with an eighth for their escapes (a
// bootstrap is JSON: its quotes are escaped).
func patchSizeHint(ops []jsonpatch.JsonPatchOperation) int {
	n := 2
	for _, op := range ops {
		n += 64 + len(op.Path)
		switch v := op.Value.(type) {
		case string:
			n += len(v) + len(v)/8 + 2
		case map[string]string:
			for k, v := range v {
				n += len(k) + len(v) + len(v)/8 + 6
			}
		default:
			n += 2 << 10
		}
	}
	return n
}

// appendValue encodes v as encoding/json would.
func appendValue(out []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case string:
		return appendString(out, v), nil
	case map[string]string:
		return appendObject(out, v)
	case map[string]any:
		return appendObject(out, v)
	}
	// Containers and volumes: encoding/json/v2 with encoding/json's
	// options writes the same bytes, a quarter faster.
	b, err := jsonv2.Marshal(v, jsonv1.DefaultOptionsV1())
	return append(out, b...), err
}

func appendObject[V any](out []byte, m map[string]V) ([]byte, error) {
	out = append(out, '{')
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(appendString(out, k), ':')
		var err error
		if out, err = appendValue(out, m[k]); err != nil {
			return nil, err
		}
	}
	return append(out, '}'), nil
}

func appendString(out []byte, s string) []byte {
	b, _ := json.Marshal(s) // a string always encodes
	return append(out, b...)
}
