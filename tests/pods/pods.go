// Package pods builds pods for tests: one application pod with functional
// options for what a test changes, so that proxy, inject, webhook and the
// end-to-end tests describe their pods the same way.
package pods

import (
	"encoding/json"
	"fmt"
	"maps"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// Option changes a test pod.
type Option func(*corev1.Pod)

// New returns the pod name (in no namespace, labelled app: web) with one
// container "web" serving HTTP on 8080, changed by opts in order.
func New(name string, opts ...Option) *corev1.Pod {
	pod := &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name:  "web",
			Image: "example.com/web:v1",
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
		}}},
	}
	for _, o := range opts {
		o(pod)
	}
	return pod
}

// Namespace places the pod.
func Namespace(ns string) Option { return func(p *corev1.Pod) { p.Namespace = ns } }

// GenerateName names the pod the way a controller does: no name, a prefix.
func GenerateName(prefix string) Option {
	return func(p *corev1.Pod) { p.Name, p.GenerateName = "", prefix }
}

// Label sets a label.
func Label(k, v string) Option {
	return func(p *corev1.Pod) {
		if p.Labels == nil {
			p.Labels = map[string]string{}
		}
		p.Labels[k] = v
	}
}

// Annotation sets an annotation.
func Annotation(k, v string) Option {
	return func(p *corev1.Pod) {
		if p.Annotations == nil {
			p.Annotations = map[string]string{}
		}
		p.Annotations[k] = v
	}
}

// Annotations sets every annotation of a.
func Annotations(a map[string]string) Option {
	return func(p *corev1.Pod) {
		if p.Annotations == nil {
			p.Annotations = map[string]string{}
		}
		maps.Copy(p.Annotations, a)
	}
}

// Ports replaces the first container's ports.
func Ports(ports ...corev1.ContainerPort) Option {
	return func(p *corev1.Pod) { p.Spec.Containers[0].Ports = ports }
}

// WorstCasePorts is how many intercepted ports the worst-case pod of the
// bounds tests has: as many as a pod may declare (proxy.MaxPorts), since
// the bootstrap no longer grows with them.
const WorstCasePorts = 256

// ManyPorts declares n TCP ports on the first container, from first on.
func ManyPorts(first, n int) Option {
	return func(p *corev1.Pod) {
		ports := make([]corev1.ContainerPort, n)
		for i := range ports {
			ports[i] = corev1.ContainerPort{Name: fmt.Sprintf("p%d", i), ContainerPort: int32(first + i)}
		}
		p.Spec.Containers[0].Ports = ports
	}
}

// RunAsUser sets the pod-wide UID.
func RunAsUser(uid int64) Option {
	return func(p *corev1.Pod) {
		if p.Spec.SecurityContext == nil {
			p.Spec.SecurityContext = &corev1.PodSecurityContext{}
		}
		p.Spec.SecurityContext.RunAsUser = ptr.To(uid)
	}
}

// HostNetwork puts the pod on the node's network.
func HostNetwork() Option { return func(p *corev1.Pod) { p.Spec.HostNetwork = true } }

// InitContainer appends an init container.
func InitContainer(c corev1.Container) Option {
	return func(p *corev1.Pod) { p.Spec.InitContainers = append(p.Spec.InitContainers, c) }
}

// Container appends a container.
func Container(c corev1.Container) Option {
	return func(p *corev1.Pod) { p.Spec.Containers = append(p.Spec.Containers, c) }
}

// Volume appends a volume.
func Volume(v corev1.Volume) Option {
	return func(p *corev1.Pod) { p.Spec.Volumes = append(p.Spec.Volumes, v) }
}

// Padded adds environment variables to the first container until the pod
// is about size bytes of JSON (within 100 bytes).
func Padded(size int) Option {
	return func(p *corev1.Pod) {
		raw, err := json.Marshal(p)
		if err != nil {
			panic(err)
		}
		const entry = `{"name":"PAD_000000","value":""},`
		value := strings.Repeat("v", 64)
		c := &p.Spec.Containers[0]
		for n, left := 0, size-len(raw); left > len(entry)+len(value); n++ {
			c.Env = append(c.Env, corev1.EnvVar{Name: fmt.Sprintf("PAD_%06d", n), Value: value})
			left -= len(entry) + len(value)
		}
	}
}

// LoggedHeaders logs n request and n response headers of length bytes
// each (planeless.dev/access-log-*-headers).
func LoggedHeaders(n, length int) Option {
	return func(p *corev1.Pod) {
		names := make([]string, n)
		for i := range names {
			prefix := fmt.Sprintf("x-%02d-", i)
			names[i] = prefix + strings.Repeat("h", length-len(prefix))
		}
		Annotation("planeless.dev/access-log-request-headers", strings.Join(names, ","))(p)
		Annotation("planeless.dev/access-log-response-headers", strings.Join(names, ","))(p)
	}
}
