package inject

import (
	"encoding/json"
	"fmt"
	"strings"

	jsonpatchapply "github.com/evanphx/json-patch/v5"
	corev1 "k8s.io/api/core/v1"
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

	raw, addedName, err := templatePod(obj, path)
	if err != nil {
		return false, Result{}, fmt.Errorf("%s: %w", where, err)
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

// PodOf returns the pod of a pod-bearing object: the Pod itself, or a pod
// made from the workload's template, named and placed like the pods the
// workload will create.
func PodOf(obj *unstructured.Unstructured) (*corev1.Pod, error) {
	path, ok := templatePaths[obj.GetKind()]
	if !ok {
		return nil, fmt.Errorf("%s %s does not carry a pod", obj.GetKind(), obj.GetName())
	}
	raw, err := json.Marshal(obj.Object)
	if path != nil {
		raw, _, err = templatePod(obj, path)
	}
	if err != nil {
		return nil, err
	}
	var pod corev1.Pod
	if err := json.Unmarshal(raw, &pod); err != nil {
		return nil, fmt.Errorf("decoding pod of %s %s: %w", obj.GetKind(), obj.GetName(), err)
	}
	if pod.Namespace == "" {
		pod.Namespace = obj.GetNamespace()
	}
	return &pod, nil
}

// templatePod encodes the pod template at path as a Pod. The template has
// no name: the pod gets its owner's as generateName, the way the owner's
// pods will be named, and addedName says so, to drop it again afterwards.
func templatePod(obj *unstructured.Unstructured, path []string) (raw []byte, addedName bool, err error) {
	template, found, err := unstructured.NestedMap(obj.Object, path...)
	if err != nil || !found {
		return nil, false, fmt.Errorf("no pod template at .%s", strings.Join(path, "."))
	}
	pod := map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{}}
	for k, v := range template {
		pod[k] = v
	}
	meta, _ := pod["metadata"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		pod["metadata"] = meta
	}
	if _, ok := meta["generateName"]; !ok {
		meta["generateName"] = obj.GetName() + "-"
		addedName = true
	}
	raw, err = json.Marshal(pod)
	if err != nil {
		return nil, false, fmt.Errorf("encoding pod template: %w", err)
	}
	return raw, addedName, nil
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
