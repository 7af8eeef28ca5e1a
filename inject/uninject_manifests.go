package inject

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// UninjectManifests reads manifests as Manifests does (multi-document YAML,
// Lists) and writes them back with planeless removed from every injected
// object; every other document passes byte for byte, and an uninjected
// document keeps every line planeless did not add, so that the output of
// `planeless inject` comes back exactly as it went in. It returns how many
// objects it uninjected. Nothing is written when an object cannot be
// uninjected; the error names every such object and why.
func UninjectManifests(r io.Reader, w io.Writer) (int, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(r))
	var out [][]byte
	var errs []error
	total := 0
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("reading YAML: %w", err)
		}
		uninjected, n, err := uninjectDocument(doc)
		total += n
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if uninjected != nil {
			out = append(out, uninjected)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return 0, err
	}
	for n, doc := range out {
		if n > 0 {
			if _, err := io.WriteString(w, "---\n"); err != nil {
				return 0, err
			}
		}
		if _, err := w.Write(doc); err != nil {
			return 0, err
		}
	}
	return total, nil
}

func uninjectDocument(doc []byte) ([]byte, int, error) {
	js, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return nil, 0, fmt.Errorf("parsing YAML document: %w", err)
	}
	if bytes.Equal(bytes.TrimSpace(js), []byte("null")) {
		return nil, 0, nil
	}
	var obj unstructured.Unstructured
	if err := obj.UnmarshalJSON(js); err != nil {
		return nil, 0, fmt.Errorf("decoding object: %w", err)
	}
	n, err := uninjectObjectOrList(&obj)
	if err != nil || n == 0 {
		return withNewline(doc), n, err
	}
	out, err := editYAML(doc, obj.Object)
	return out, n, err
}

func uninjectObjectOrList(obj *unstructured.Unstructured) (int, error) {
	if obj.IsList() {
		items, _, _ := unstructured.NestedSlice(obj.Object, "items")
		var errs []error
		total := 0
		for i, item := range items {
			m, ok := item.(map[string]any)
			if !ok {
				continue
			}
			child := &unstructured.Unstructured{Object: m}
			n, err := uninjectObjectOrList(child)
			errs = append(errs, err)
			total += n
			items[i] = child.Object
		}
		if total > 0 {
			if err := unstructured.SetNestedSlice(obj.Object, items, "items"); err != nil {
				return 0, fmt.Errorf("writing list items: %w", err)
			}
		}
		return total, errors.Join(errs...)
	}
	changed, err := UninjectObject(obj)
	if changed {
		return 1, err
	}
	return 0, err
}

// UninjectObject removes planeless from the pod of a pod-bearing object (a
// Pod, or a workload's pod template), in place, and reports whether it was
// injected. Other kinds, and pods planeless did not inject, are left alone.
func UninjectObject(obj *unstructured.Unstructured) (bool, error) {
	path, ok := templatePaths[obj.GetKind()]
	if !ok {
		return false, nil
	}
	pod := obj.Object
	if path != nil {
		template, found, err := unstructured.NestedFieldNoCopy(obj.Object, path...)
		if err != nil || !found {
			return false, nil
		}
		if pod, ok = template.(map[string]any); !ok {
			return false, nil
		}
	}
	name := obj.GetName()
	if name == "" {
		name = obj.GetGenerateName()
	}
	changed, err := uninjectPod(pod)
	if err != nil {
		return false, fmt.Errorf("%s %s: %w", obj.GetKind(), name, err)
	}
	return changed, nil
}
