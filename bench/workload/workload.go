package workload

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	"github.com/planeless/planeless/inject"
)

// Namespace is where every benchmark pod lives.
const Namespace = "bench"

// Emojivoto returns the raw JSON of the pod the web Deployment of
// tests/corpus/emojivoto.yaml creates, as the API server would send it.
func Emojivoto(repoRoot string) ([]byte, error) {
	data, err := os.ReadFile(filepath.Join(repoRoot, "tests", "corpus", "emojivoto.yaml"))
	if err != nil {
		return nil, fmt.Errorf("reading the emojivoto corpus: %w", err)
	}
	for doc := range bytes.SplitSeq(data, []byte("\n---")) {
		var obj unstructured.Unstructured
		if err := yaml.Unmarshal(doc, &obj.Object); err != nil {
			return nil, fmt.Errorf("decoding the emojivoto corpus: %w", err)
		}
		if obj.GetKind() != "Deployment" || obj.GetName() != "web" {
			continue
		}
		pod, err := inject.PodOf(&obj)
		if err != nil {
			return nil, err
		}
		return json.Marshal(pod)
	}
	return nil, fmt.Errorf("no web Deployment in the emojivoto corpus")
}

// Large returns a pod with 20 containers, 2000 environment variables (100
// per container) and 50 volumes, each container mounting every volume.
func Large() *corev1.Pod {
	pod := base("large")
	for v := range 50 {
		pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{
			Name:         "data-" + strconv.Itoa(v),
			VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}},
		})
	}
	for c := range 20 {
		container := corev1.Container{
			Name:  "app-" + strconv.Itoa(c),
			Image: "registry.example.com/app:1.0",
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: int32(8000 + c), Protocol: corev1.ProtocolTCP}},
		}
		for e := range 100 {
			container.Env = append(container.Env, corev1.EnvVar{
				Name:  fmt.Sprintf("SETTING_%02d_%03d", c, e),
				Value: fmt.Sprintf("value-%d-%d-with-some-length-to-it", c, e),
			})
		}
		for _, v := range pod.Spec.Volumes {
			container.VolumeMounts = append(container.VolumeMounts, corev1.VolumeMount{Name: v.Name, MountPath: "/data/" + v.Name})
		}
		pod.Spec.Containers = append(pod.Spec.Containers, container)
	}
	return pod
}

// Ports returns a pod whose one container declares n TCP ports
// (8000, 8001, ...), each of which the proxy intercepts.
func Ports(n int) *corev1.Pod {
	pod := base("ports-" + strconv.Itoa(n))
	c := corev1.Container{Name: "app", Image: "registry.example.com/app:1.0"}
	for i := range n {
		c.Ports = append(c.Ports, corev1.ContainerPort{
			Name: "p" + strconv.Itoa(i), ContainerPort: int32(8000 + i), Protocol: corev1.ProtocolTCP,
		})
	}
	pod.Spec.Containers = []corev1.Container{c}
	return pod
}

// Review is the AdmissionReview v1 the API server sends for creating the
// pod in raw (its JSON) in namespace, with uid.
func Review(uid, namespace string, raw []byte) []byte {
	b, err := json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID:       types.UID(uid),
			Kind:      metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
			Resource:  metav1.GroupVersionResource{Version: "v1", Resource: "pods"},
			Namespace: namespace,
			Operation: admissionv1.Create,
			Object:    runtime.RawExtension{Raw: raw},
		},
	})
	if err != nil {
		panic(fmt.Sprintf("encoding a benchmark review: %v", err)) // a programmer error: raw is JSON this package or a test wrote
	}
	return b
}

// Raw is pod as the JSON an AdmissionReview carries.
func Raw(pod *corev1.Pod) []byte {
	b, err := json.Marshal(pod)
	if err != nil {
		panic(fmt.Sprintf("encoding a benchmark pod: %v", err)) // a programmer error: these pods always encode
	}
	return b
}

func base(name string) *corev1.Pod {
	pod := &corev1.Pod{}
	pod.APIVersion, pod.Kind = "v1", "Pod"
	pod.Name = name
	pod.Namespace = Namespace
	pod.Labels = map[string]string{"app": name, "version": "v1"}
	return pod
}
