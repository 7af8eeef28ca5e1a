package bootstrap_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/planeless/planeless/spec"
)

// podOption changes a test pod.
type podOption func(*corev1.Pod)

// pod returns a pod the way a controller creates it (generateName, no name
// yet) with one application container.
func pod(namespace, generateName string, opts ...podOption) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, GenerateName: generateName, Labels: map[string]string{}, Annotations: map[string]string{}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "example.com/app:1"}}},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func withLabel(k, v string) podOption {
	return func(p *corev1.Pod) { p.Labels[k] = v }
}

func withAnnotation(k, v string) podOption {
	return func(p *corev1.Pod) { p.Annotations[k] = v }
}

// withPort declares a TCP containerPort on the application container.
func withPort(name string, number int32) podOption {
	return func(p *corev1.Pod) {
		c := &p.Spec.Containers[0]
		c.Ports = append(c.Ports, corev1.ContainerPort{Name: name, ContainerPort: number, Protocol: corev1.ProtocolTCP})
	}
}

// emojivoto returns a pod of one emojivoto deployment, as in
// tests/corpus/emojivoto.yaml (app and version labels, named ports).
func emojivoto(deployment, app string, ports ...podOption) *corev1.Pod {
	opts := append([]podOption{withLabel("app", app), withLabel("version", "v11")}, ports...)
	return pod("emojivoto", deployment+"-5d4f8b7c9-", opts...)
}

// cases are the representative pods whose bootstraps are kept as golden
// files in testdata/<name>.yaml.
var cases = map[string]*corev1.Pod{
	"rest": pod("shop", "cart-7c9d8f6b5-",
		withLabel("app", "cart"), withLabel("version", "v1"), withPort("http", 8080)),
	"grpc": pod("shop", "checkout-6b5d4c8f7-",
		withLabel("app.kubernetes.io/name", "checkout"), withLabel("app.kubernetes.io/version", "2.3.0"), withPort("grpc", 9090)),
	"auto-and-tcp-without-egress": pod("shop", "catalog-59f7d6c4b-",
		withLabel("app", "catalog"), withPort("", 8080), withPort("", 5432),
		withAnnotation(spec.Prefix+"egress", "false")),
	"ipv4-only": pod("shop", "cart-7c9d8f6b5-",
		withLabel("app", "cart"), withLabel("version", "v1"), withPort("http", 8080),
		withAnnotation(spec.Prefix+"ipv6", "false")),
	"mixed-ports-by-annotation": pod("shop", "gateway-84c6f9d7b-",
		withLabel("app", "gateway"), withAnnotation(spec.Prefix+"ports", "8080:http,8081:auto,9090:grpc,6379:tcp")),
	"emojivoto-emoji":    emojivoto("emoji", "emoji-svc", withPort("grpc", 8080), withPort("prom", 8801)),
	"emojivoto-voting":   emojivoto("voting", "voting-svc", withPort("grpc", 8080), withPort("prom", 8801)),
	"emojivoto-web":      emojivoto("web", "web-svc", withPort("http", 8080)),
	"emojivoto-vote-bot": emojivoto("vote-bot", "vote-bot"),
}

// specOf builds the pod's spec with the shipped defaults.
func specOf(t *testing.T, p *corev1.Pod) *spec.Spec {
	t.Helper()
	s, _, err := spec.FromPod(p, spec.DefaultDefaults())
	if err != nil {
		t.Fatalf("spec.FromPod: %v", err)
	}
	return s
}
