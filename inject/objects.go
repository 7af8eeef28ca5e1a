package inject

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/planeless/planeless/proxy"
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
// pod template) exactly as the webhook would (Injector.Pod), and reports
// whether it changed. namespace places an object that names none. Other
// kinds are left alone.
func (i *Injector) Object(obj *unstructured.Unstructured, namespace string) (bool, Result, error) {
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
		out, res, err := i.Pod(context.Background(), raw, cmp.Or(obj.GetNamespace(), namespace))
		if err != nil || out == nil {
			return false, res, wrap(where, err)
		}
		return true, res, wrap(where, json.Unmarshal(out, &obj.Object))
	}

	raw, addedName, err := templatePod(obj, path)
	if err != nil {
		return false, Result{}, fmt.Errorf("%s: %w", where, err)
	}
	out, res, err := i.Pod(context.Background(), raw, cmp.Or(obj.GetNamespace(), namespace))
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

// Bootstrap returns the Envoy bootstrap the webhook would give the pod of
// a pod-bearing object: the object is injected through the same door
// (Object) and the bootstrap read from the annotation it carries. A pod
// the injector leaves alone has none: the error says why.
func (i *Injector) Bootstrap(obj *unstructured.Unstructured, namespace string) ([]byte, Result, error) {
	obj = obj.DeepCopy()
	where := fmt.Sprintf("%s %s", obj.GetKind(), cmp.Or(obj.GetName(), obj.GetGenerateName()))
	changed, res, err := i.Object(obj, namespace)
	if err != nil {
		return nil, res, err
	}
	if !changed {
		return nil, res, fmt.Errorf("%s: not injected, so it has no bootstrap: %s", where, res.Skipped)
	}
	pod, err := PodOf(obj)
	if err != nil {
		return nil, res, err
	}
	return []byte(pod.Annotations[proxy.AnnotationBootstrap]), res, nil
}

func wrap(where string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", where, err)
}
