package check

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/planeless/planeless/inject"
	"github.com/planeless/planeless/proxy"
)

// now is the fixed "now" of the unit tests.
var now = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// local renders with an injector in the process: the tests' stand-in for
// the webhook.
type local struct{ injector *inject.Injector }

func (l local) Render(_ context.Context, pod *corev1.Pod) (*corev1.Pod, error) {
	pod = pod.DeepCopy()
	if _, err := l.injector.Inject(pod); err != nil {
		return nil, err
	}
	return pod, nil
}

func pod(namespace, name string, created time.Time, edits ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: namespace, Labels: map[string]string{"app": name},
			CreationTimestamp: metav1.NewTime(created),
		},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "app", Image: "example.com/app:1",
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
		}}},
	}
	for _, e := range edits {
		e(p)
	}
	return p
}

// injectedBy returns p injected by i.
func injectedBy(t *testing.T, i *inject.Injector, p *corev1.Pod) *corev1.Pod {
	t.Helper()
	p = p.DeepCopy()
	if _, err := i.Inject(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// today is what the test webhook (the default injector) renders for p.
func today(t *testing.T, p *corev1.Pod) *corev1.Pod {
	t.Helper()
	original, err := Original(p)
	if err != nil {
		t.Fatal(err)
	}
	got, err := local{inject.New()}.Render(t.Context(), original)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func mustSelector(t *testing.T, s string) labels.Selector {
	t.Helper()
	sel, err := labels.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return sel
}

// webhook is an installed webhook that answered the probe.
func webhook(t *testing.T) Webhook {
	t.Helper()
	return Webhook{
		Config:            "planeless",
		Created:           now.Add(-30 * 24 * time.Hour),
		FailurePolicy:     "Fail",
		Endpoint:          "https://planeless.planeless.svc:443/inject",
		NamespaceSelector: mustSelector(t, proxy.LabelInject+"=enabled,kubernetes.io/metadata.name notin (kube-system)"),
		Labelled:          mustSelector(t, proxy.LabelInject+"=enabled"),
		ObjectSelector:    mustSelector(t, proxy.LabelInject+" notin (false,disabled)"),
		LabelKeys:         []string{proxy.LabelInject},
		ProbeNamespace:    "shop",
		Probe:             injectedBy(t, inject.New(), pod("shop", "probe", now)),
	}
}
