package inject

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// Manifests injects every pod-bearing object of a multi-document YAML
// stream (a List's items too) and writes the stream back: injected objects
// with the injection's lines added, every other document byte for byte as
// it came. namespace
// places objects that name none (DefaultNamespace when empty). warn
// receives each warning, prefixed with the object it is about. Nothing is
// written when a pod's annotations are invalid; the error names every one.
func (i *Injector) Manifests(r io.Reader, w io.Writer, namespace string, warn func(string)) error {
	var out [][]byte
	var errs []error
	err := eachDocument(r, func(doc []byte, obj *unstructured.Unstructured) error {
		if obj == nil {
			return nil
		}
		changed, err := i.objectOrList(obj, namespace, warn)
		switch {
		case err != nil:
			errs = append(errs, err)
		case changed:
			// Only the injection's lines are added to the document, so
			// that uninject can give back the input byte for byte.
			injected, err := editYAML(doc, obj.Object)
			if err != nil {
				return fmt.Errorf("encoding %s %s: %w", obj.GetKind(), obj.GetName(), err)
			}
			out = append(out, injected)
		default:
			out = append(out, withNewline(doc))
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for n, doc := range out {
		if n > 0 {
			if _, err := io.WriteString(w, "---\n"); err != nil {
				return err
			}
		}
		if _, err := w.Write(doc); err != nil {
			return err
		}
	}
	return nil
}

// FirstPodBearing returns the first Pod or workload of a multi-document
// YAML stream, looking into Lists too.
func FirstPodBearing(r io.Reader) (*unstructured.Unstructured, error) {
	var found *unstructured.Unstructured
	var kinds []string
	errFound := errors.New("found")
	var visit func(obj *unstructured.Unstructured) error
	visit = func(obj *unstructured.Unstructured) error {
		if obj.IsList() {
			items, _, _ := unstructured.NestedSlice(obj.Object, "items")
			for _, item := range items {
				if m, ok := item.(map[string]any); ok {
					if err := visit(&unstructured.Unstructured{Object: m}); err != nil {
						return err
					}
				}
			}
			return nil
		}
		if PodBearing(obj.GetKind()) {
			found = obj
			return errFound
		}
		kinds = append(kinds, obj.GetKind())
		return nil
	}
	err := eachDocument(r, func(_ []byte, obj *unstructured.Unstructured) error {
		if obj == nil {
			return nil
		}
		return visit(obj)
	})
	if found != nil {
		return found, nil
	}
	if err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("no Pod or workload in the input (found: %s)", strings.Join(kinds, ", "))
}

// eachDocument calls f with every document of a multi-document YAML
// stream and the object it holds, nil for a document holding none.
func eachDocument(r io.Reader, f func(doc []byte, obj *unstructured.Unstructured) error) error {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(r))
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading YAML: %w", err)
		}
		js, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return fmt.Errorf("parsing YAML document: %w", err)
		}
		var obj *unstructured.Unstructured
		if !bytes.Equal(bytes.TrimSpace(js), []byte("null")) {
			obj = &unstructured.Unstructured{}
			if err := obj.UnmarshalJSON(js); err != nil {
				return fmt.Errorf("decoding object: %w", err)
			}
		}
		if err := f(doc, obj); err != nil {
			return err
		}
	}
}

func (i *Injector) objectOrList(obj *unstructured.Unstructured, namespace string, warn func(string)) (bool, error) {
	if !obj.IsList() {
		changed, res, err := i.Object(obj, namespace)
		name := obj.GetName()
		if name == "" {
			name = obj.GetGenerateName()
		}
		for _, w := range res.Warnings {
			warn(fmt.Sprintf("%s %s: %s", obj.GetKind(), name, w))
		}
		return changed, err
	}
	items, _, _ := unstructured.NestedSlice(obj.Object, "items")
	var errs []error
	anyChanged := false
	for n, item := range items {
		m, ok := item.(map[string]any)
		if !ok {
			continue
		}
		child := &unstructured.Unstructured{Object: m}
		changed, err := i.objectOrList(child, namespace, warn)
		errs = append(errs, err)
		if changed {
			items[n] = child.Object
			anyChanged = true
		}
	}
	if anyChanged {
		if err := unstructured.SetNestedSlice(obj.Object, items, "items"); err != nil {
			return false, fmt.Errorf("writing list items: %w", err)
		}
	}
	return anyChanged, errors.Join(errs...)
}

func withNewline(doc []byte) []byte {
	if strings.HasSuffix(string(doc), "\n") {
		return doc
	}
	return append(doc, '\n')
}
