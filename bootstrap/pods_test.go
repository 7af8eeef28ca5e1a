package bootstrap_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/yaml"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/planeless/planeless/proxy"
	"github.com/planeless/planeless/tests/need"
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

// emojivotoPods returns one pod per Deployment of the emojivoto corpus,
// named the way its ReplicaSet would name it (generateName
// <deployment>-<hash>-).
func emojivotoPods() map[string]*corev1.Pod {
	data, err := os.ReadFile(filepath.Join(need.RepoRoot(), "tests", "corpus", "emojivoto.yaml"))
	if err != nil {
		panic(fmt.Sprintf("reading the emojivoto corpus: %v", err))
	}
	pods := map[string]*corev1.Pod{}
	for _, doc := range strings.Split(string(data), "\n---") {
		var d appsv1.Deployment
		if err := yaml.Unmarshal([]byte(doc), &d); err != nil {
			panic(fmt.Sprintf("parsing the emojivoto corpus: %v", err))
		}
		if d.Kind != "Deployment" {
			continue
		}
		pods["emojivoto-"+d.Name] = &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{
				Namespace:    d.Namespace,
				GenerateName: d.Name + "-5d4f8b7c9-",
				Labels:       d.Spec.Template.Labels,
				Annotations:  d.Spec.Template.Annotations,
			},
			Spec: d.Spec.Template.Spec,
		}
	}
	return pods
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
		withAnnotation(proxy.Prefix+"egress", "false")),
	"ipv4-only": pod("shop", "cart-7c9d8f6b5-",
		withLabel("app", "cart"), withLabel("version", "v1"), withPort("http", 8080),
		withAnnotation(proxy.Prefix+"ipv6", "false")),
	"mixed-ports-by-annotation": pod("shop", "gateway-84c6f9d7b-",
		withLabel("app", "gateway"), withAnnotation(proxy.Prefix+"ports", "8080:http,8081:auto,9090:grpc,6379:tcp")),
	"tracing-zipkin": pod("shop", "cart-7c9d8f6b5-",
		withLabel("app", "cart"), withLabel("version", "v1"), withPort("http", 8080),
		withAnnotation(proxy.Prefix+"tracing", "zipkin"), withAnnotation(proxy.Prefix+"tracing-endpoint", "zipkin.observability:9411"),
		withAnnotation(proxy.Prefix+"tracing-sampling", "100")),
	"tracing-otlp": pod("shop", "cart-7c9d8f6b5-",
		withLabel("app", "cart"), withLabel("version", "v1"), withPort("grpc", 9090),
		withAnnotation(proxy.Prefix+"tracing", "otlp"), withAnnotation(proxy.Prefix+"tracing-endpoint", "[fd00::7]:4317")),
	"access-log-text-with-headers": pod("shop", "cart-7c9d8f6b5-",
		withLabel("app", "cart"), withPort("http", 8080),
		withAnnotation(proxy.Prefix+"access-log", "text"),
		withAnnotation(proxy.Prefix+"access-log-request-headers", "X-Customer-Id,x-tenant"),
		withAnnotation(proxy.Prefix+"access-log-response-headers", "x-cache")),
	"access-log-off": pod("shop", "cart-7c9d8f6b5-",
		withLabel("app", "cart"), withPort("http", 8080), withAnnotation(proxy.Prefix+"access-log", "off")),
}

func init() {
	// Every Deployment of tests/corpus/emojivoto.yaml is a case too.
	for name, p := range emojivotoPods() {
		cases[name] = p
	}
}

// specOf builds the pod's spec with the shipped defaults.
func specOf(t *testing.T, p *corev1.Pod) *proxy.Spec {
	t.Helper()
	s, _, err := proxy.FromPod(p, proxy.DefaultDefaults())
	if err != nil {
		t.Fatalf("proxy.FromPod: %v", err)
	}
	return s
}
