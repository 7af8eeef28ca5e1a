package inject

import (
	"encoding/json"
	"fmt"
	"strings"

	jsonpatchapply "github.com/evanphx/json-patch/v5"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// templatePaths says where each pod-bearing kind keeps its pod.
var templatePaths = map[string][]string{
	"Pod":         nil,
	"Deployment":  {"spec", "template"},
	"StatefulSet": {"spec", "template"},
	"DaemonSet":   {"spec", "template"},
	"ReplicaSet":  {"spec", "template"},
	"Job":         {"spec", "template"},
	"CronJob":     {"spec", "jobTemplate", "spec", "template"},
}

// PodBearing reports whether objects of this kind carry a pod.
func PodBearing(kind string) bool {
	_, ok := templatePaths[kind]
	return ok
}

// Object injects the pod of a pod-bearing object (a Pod, or a workload's
// pod template) with the same patch the webhook would return, and reports
// whether it changed. Other kinds are left alone.
func (i *Injector) Object(obj *unstructured.Unstructured) (bool, Result, error) {
	path, ok := templatePaths[obj.GetKind()]
	if !ok {
		return false, Result{Skipped: "not a pod-bearing kind"}, nil
	}
	where := fmt.Sprintf("%s %s", obj.GetKind(), obj.GetName())
	if path == nil {
		raw, err := json.Marshal(obj.Object)
		if err != nil {
			return false, Result{}, fmt.Errorf("%s: encoding: %w", where, err)
		}
		out, res, err := i.patched(raw, obj.GetNamespace())
		if err != nil || out == nil {
			return false, res, wrap(where, err)
		}
		return true, res, wrap(where, json.Unmarshal(out, &obj.Object))
	}

	template, found, err := unstructured.NestedMap(obj.Object, path...)
	if err != nil || !found {
		return false, Result{}, fmt.Errorf("%s: no pod template at .%s", where, joinPath(path))
	}
	pod := map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{}}
	for k, v := range template {
		pod[k] = v
	}
	// The template has no name: give the pod its owner's, as the pods the
	// owner creates will have (generateName is trimmed like the webhook
	// trims it), and drop it again afterwards.
	meta, _ := pod["metadata"].(map[string]any)
	addedName := false
	if _, ok := meta["generateName"]; !ok {
		meta["generateName"] = obj.GetName() + "-"
		addedName = true
	}
	raw, err := json.Marshal(pod)
	if err != nil {
		return false, Result{}, fmt.Errorf("%s: encoding pod template: %w", where, err)
	}
	out, res, err := i.patched(raw, obj.GetNamespace())
	if err != nil || out == nil {
		return false, res, wrap(where, err)
	}
	var injected map[string]any
	if err := json.Unmarshal(out, &injected); err != nil {
		return false, res, fmt.Errorf("%s: decoding injected pod: %w", where, err)
	}
	if addedName {
		delete(injected["metadata"].(map[string]any), "generateName")
	}
	delete(injected, "apiVersion")
	delete(injected, "kind")
	if err := unstructured.SetNestedMap(obj.Object, injected, path...); err != nil {
		return false, res, fmt.Errorf("%s: writing pod template: %w", where, err)
	}
	return true, res, nil
}

// patched returns raw with the injection patch applied, or nil when the
// pod is left alone.
func (i *Injector) patched(raw []byte, namespace string) ([]byte, Result, error) {
	ops, res, err := i.Patch(raw, namespace)
	if err != nil || res.Skipped != "" {
		return nil, res, err
	}
	opsJSON, err := json.Marshal(ops)
	if err != nil {
		return nil, res, fmt.Errorf("encoding patch: %w", err)
	}
	p, err := jsonpatchapply.DecodePatch(opsJSON)
	if err != nil {
		return nil, res, fmt.Errorf("decoding patch: %w", err)
	}
	out, err := p.Apply(raw)
	if err != nil {
		return nil, res, fmt.Errorf("applying patch: %w", err)
	}
	return out, res, nil
}

func wrap(where string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", where, err)
}
