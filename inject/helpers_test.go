package inject

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/planeless/planeless/tests/pods"
)

func withAnnotations(a map[string]string) *corev1.Pod {
	return pods.New("p", pods.Namespace("ns"), pods.Annotations(a))
}

func cmpPods(a, b *corev1.Pod) string { return cmp.Diff(a, b) }

func names(cs []corev1.Container) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	return out
}

func find(cs []corev1.Container, name string) *corev1.Container {
	for i := range cs {
		if cs[i].Name == name {
			return &cs[i]
		}
	}
	return nil
}

// podOfYAML returns the pod a manifest carries, or nil for other kinds.
func podOfYAML(t *testing.T, doc string) *corev1.Pod {
	t.Helper()
	var obj unstructured.Unstructured
	if err := yaml.Unmarshal([]byte(doc), &obj.Object); err != nil {
		t.Fatal(err)
	}
	if !PodBearing(obj.GetKind()) {
		return nil
	}
	pod, err := PodOf(&obj)
	if err != nil {
		t.Fatal(err)
	}
	return pod
}
