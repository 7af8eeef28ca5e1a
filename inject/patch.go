package inject

import (
	"encoding/json"
	"fmt"
	"slices"

	"gomodules.xyz/jsonpatch/v2"
	corev1 "k8s.io/api/core/v1"
)

// Patch decodes the pod in raw, injects it, and returns the JSON patch that
// turns raw into the injected pod. The patch is computed against the raw
// bytes, not a re-encoding of them, so fields this binary's types do not know
// survive. namespace stands in for the pod's own when that is empty (pods
// reach admission before their namespace is defaulted).
func (i *Injector) Patch(raw []byte, namespace string) ([]jsonpatch.JsonPatchOperation, Result, error) {
	var pod corev1.Pod
	if err := json.Unmarshal(raw, &pod); err != nil {
		return nil, Result{}, fmt.Errorf("decoding pod: %w", err)
	}
	if reason := SkipReason(&pod); reason != "" {
		return nil, Result{Skipped: reason}, nil
	}
	ownNamespace := pod.Namespace
	if pod.Namespace == "" {
		pod.Namespace = namespace
	}
	res, err := i.Inject(&pod)
	if err != nil || res.Skipped != "" {
		return nil, res, err
	}
	pod.Namespace = ownNamespace

	injected, err := json.Marshal(&pod)
	if err != nil {
		return nil, res, fmt.Errorf("encoding injected pod: %w", err)
	}
	ops, err := jsonpatch.CreatePatch(raw, injected)
	if err != nil {
		return nil, res, fmt.Errorf("computing patch: %w", err)
	}
	return slices.DeleteFunc(ops, roundTripNoise), res, nil
}

// roundTripNoise reports whether op only reflects decoding and re-encoding
// the pod, not the injection. Injection only adds, and never adds an empty
// value: a removal can only be a field this binary's types dropped (keep
// it), and an empty addition is a zero struct the types always encode
// (resources: {}, creationTimestamp: null).
func roundTripNoise(op jsonpatch.JsonPatchOperation) bool {
	switch op.Operation {
	case "remove":
		return true
	case "add":
		switch v := op.Value.(type) {
		case nil:
			return true
		case map[string]any:
			return len(v) == 0
		}
	}
	return false
}
