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
// re-encoded, every other document byte for byte as it came. warn receives
// each warning, prefixed with the object it is about. Nothing is written
// when a pod's annotations are invalid; the error names every one.
func (i *Injector) Manifests(r io.Reader, w io.Writer, warn func(string)) error {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(r))
	var out [][]byte
	var errs []error
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("reading YAML: %w", err)
		}
		injected, err := i.document(doc, warn)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if injected != nil {
			out = append(out, injected)
		}
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

// document returns the document to write: the original bytes when nothing
// changed, nil for a document with no object in it.
func (i *Injector) document(doc []byte, warn func(string)) ([]byte, error) {
	js, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return nil, fmt.Errorf("parsing YAML document: %w", err)
	}
	if bytes.Equal(bytes.TrimSpace(js), []byte("null")) {
		return nil, nil
	}
	var obj unstructured.Unstructured
	if err := obj.UnmarshalJSON(js); err != nil {
		return nil, fmt.Errorf("decoding object: %w", err)
	}
	changed, err := i.objectOrList(&obj, warn)
	if err != nil || !changed {
		return withNewline(doc), err
	}
	return editYAML(doc, obj.Object)
}

func (i *Injector) objectOrList(obj *unstructured.Unstructured, warn func(string)) (bool, error) {
	if !obj.IsList() {
		changed, res, err := i.Object(obj)
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
		changed, err := i.objectOrList(child, warn)
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
