package e2e_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/planeless/planeless/inject"
	"github.com/planeless/planeless/proxy"
)

// appPod is a plain application pod with one HTTP port.
func appPod(name string) *corev1.Pod {
	return &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name:  "app",
			Image: "example.com/web:v1",
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
		}}},
	}
}

// injected reports whether the pod carries planeless's status annotation.
func injected(pod *corev1.Pod) bool {
	_, ok := pod.Annotations[proxy.AnnotationStatus]
	return ok
}

// containerCount counts containers and init containers of the name.
func containerCount(pod *corev1.Pod, name string) int {
	n := 0
	for _, cs := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for _, c := range cs {
			if c.Name == name {
				n++
			}
		}
	}
	return n
}

// requireInjected checks the parts planeless adds, once each.
func requireInjected(t *testing.T, pod *corev1.Pod) {
	t.Helper()
	if !injected(pod) {
		t.Fatalf("pod %s%s was not injected: annotations %v", pod.Name, pod.GenerateName, pod.Annotations)
	}
	for _, name := range []string{inject.InitName, inject.ProxyName} {
		if n := containerCount(pod, name); n != 1 {
			t.Errorf("pod has %d containers named %s, want 1", n, name)
		}
	}
	seen := map[string]bool{}
	for _, v := range pod.Spec.Volumes {
		if seen[v.Name] {
			t.Errorf("volume %s appears twice", v.Name)
		}
		seen[v.Name] = true
	}
	for _, v := range []string{inject.BootstrapVolume, inject.XtablesVolume} {
		if !seen[v] {
			t.Errorf("pod lacks volume %s", v)
		}
	}
}

// cliInject runs `planeless inject` on obj and decodes the result into out.
func (s *stack) cliInject(obj any, out any) {
	s.t.Helper()
	data, err := yaml.Marshal(obj)
	if err != nil {
		s.t.Fatal(err)
	}
	in := filepath.Join(s.t.TempDir(), "in.yaml")
	if err := os.WriteFile(in, data, 0o600); err != nil {
		s.t.Fatal(err)
	}
	got, err := exec.CommandContext(s.t.Context(), s.bin, "inject", "-f", in).Output()
	if err != nil {
		s.t.Fatalf("planeless inject: %v", err)
	}
	if err := yaml.UnmarshalStrict(got, out); err != nil {
		s.t.Fatalf("decoding planeless inject's output: %v\n%s", err, got)
	}
}

// defaulted returns pod as the API server would store it, without calling
// the webhook: a server-side dry run in the unlabelled namespace.
func (s *stack) defaulted(pod *corev1.Pod) *corev1.Pod {
	s.t.Helper()
	pod = pod.DeepCopy()
	pod.Namespace = plainNS
	// A name of its own: the pod under test may be stored in plainNS. The
	// name shapes nothing the comparison looks at.
	pod.Name, pod.GenerateName = "", "expected-"
	got, err := s.client.CoreV1().Pods(plainNS).Create(s.t.Context(), pod, dryRun())
	if err != nil {
		s.t.Fatalf("dry-run of the expected pod: %v", err)
	}
	return got
}

// sameStoredPod compares what the API server stored with what it would
// store for want: labels, annotations and the whole spec.
func sameStoredPod(t *testing.T, want, got *corev1.Pod) {
	t.Helper()
	if diff := cmp.Diff(want.Labels, got.Labels); diff != "" {
		t.Errorf("labels differ (-want +stored):\n%s", diff)
	}
	if diff := cmp.Diff(want.Annotations, got.Annotations); diff != "" {
		t.Errorf("annotations differ (-want +stored):\n%s", diff)
	}
	if diff := cmp.Diff(want.Spec, got.Spec); diff != "" {
		t.Errorf("spec differs (-want +stored):\n%s", diff)
	}
}

func yamlOf(t *testing.T, obj any) ([]byte, error) {
	t.Helper()
	b, err := yaml.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return b, nil
}
