package inject

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

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
	original := pod.DeepCopy()
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
	moved := movedContainers(original, &pod)
	return slices.DeleteFunc(ops, func(op jsonpatch.JsonPatchOperation) bool {
		return roundTripNoise(op) && !moved(op.Path)
	}), res, nil
}

// movedContainers reports whether a patch path lies in a container whose
// index now holds another container: inserting planeless's containers
// before the user's shifts them, and the diff then turns the user's
// container at that index into planeless's one field by field, so its
// removals are real (the user's env, workingDir, readOnly must not stay).
func movedContainers(before, after *corev1.Pod) func(path string) bool {
	var prefixes []string
	for _, list := range []struct {
		path          string
		before, after []corev1.Container
	}{
		{"/spec/initContainers/", before.Spec.InitContainers, after.Spec.InitContainers},
		{"/spec/containers/", before.Spec.Containers, after.Spec.Containers},
	} {
		for i := range min(len(list.before), len(list.after)) {
			if list.before[i].Name != list.after[i].Name {
				prefixes = append(prefixes, list.path+strconv.Itoa(i)+"/")
			}
		}
	}
	return func(path string) bool {
		return slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(path, p) })
	}
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
