package check

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"

	"github.com/planeless/planeless/inject"
	"github.com/planeless/planeless/proxy"
	"github.com/planeless/planeless/tests/golden"
)

// counting renders with the default injector and counts the renders.
type counting struct {
	local
	n atomic.Int32
}

func (c *counting) Render(ctx context.Context, pod *corev1.Pod) (*corev1.Pod, error) {
	c.n.Add(1)
	return c.local.Render(ctx, pod)
}

// A cluster as the chart installs planeless on it, read through a fake
// clientset; the webhook is the injector in the process. The report is
// golden, as a table and as JSON.
func TestGatherAndReport(t *testing.T) {
	renderer := &counting{local: local{inject.New()}}
	client := fake.NewClientset(cluster(t)...)
	s, err := Gather(t.Context(), Options{Client: client, Renderer: renderer, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	// The probe, the bare pod, and one render for the ReplicaSet's two pods.
	if n := renderer.n.Load(); n != 3 {
		t.Errorf("rendered %d times, want 3", n)
	}
	if w := s.Webhook; w.Config != "planeless" || w.CertName != "planeless.planeless.svc" || w.Cert == nil || w.CertSource != "Secret planeless/planeless-tls, key tls.crt" {
		t.Errorf("webhook = %+v (cert error %q)", w, w.CertError)
	}
	r := Judge(s)
	var table, js bytes.Buffer
	if err := r.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, filepath.Join("testdata", "report.txt"), table.Bytes())
	golden.Assert(t, filepath.Join("testdata", "report.json"), js.Bytes())
	if r.OK || len(r.Problems) != 2 {
		t.Errorf("OK %v with problems %q, want the stale and the escaped pods", r.OK, r.Problems)
	}
}

func TestGatherLimitedToANamespace(t *testing.T) {
	client := fake.NewClientset(cluster(t)...)
	s, err := Gather(t.Context(), Options{Client: client, Renderer: local{inject.New()}, Now: now, Namespace: "plain"})
	if err != nil {
		t.Fatal(err)
	}
	r := Judge(s)
	if len(r.Pods) != 0 || len(r.Namespaces) != 0 || r.Webhook.Reachable != Yes || r.Webhook.Detail != "a dry-run pod in shop was injected by planeless 0.1.0" {
		t.Errorf("report for plain = %+v, want the webhook tried in shop and no pod", r)
	}
}

func TestGatherRefusesANamespaceThatDoesNotExist(t *testing.T) {
	_, err := Gather(t.Context(), Options{Client: fake.NewClientset(cluster(t)...), Renderer: local{inject.New()}, Now: now, Namespace: "shpo"})
	if err == nil || err.Error() != `namespace "shpo" not found` {
		t.Errorf("error = %v", err)
	}
}

func TestGatherWithoutPlaneless(t *testing.T) {
	s, err := Gather(t.Context(), Options{Client: fake.NewClientset(), Renderer: local{inject.New()}, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if r := Judge(s); r.OK || r.Webhook.Installed {
		t.Errorf("report = %+v, want planeless missing", r)
	}
}

// cluster is planeless installed by the chart, with a webhook behind a
// Service, and pods of each kind.
func cluster(t *testing.T) []runtime.Object {
	t.Helper()
	caPEM := read(t, "testdata/ca.crt")
	fail := admissionregistrationv1.Fail
	labels := map[string]string{"app.kubernetes.io/name": "planeless"}
	debug := inject.New()
	debug.Defaults.LogLevel = "debug"
	created := now.Add(-time.Hour)
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web-7d9f8b", Namespace: "shop", UID: "rs-uid",
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: "web", UID: "d-uid", Controller: ptr.To(true)}}},
	}
	rsPod := func(name string) *corev1.Pod {
		p := pod("shop", name, created, func(p *corev1.Pod) {
			p.GenerateName = "web-7d9f8b-"
			p.Labels = map[string]string{"app": "web", "pod-template-hash": "7d9f8b"}
			p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: ptr.To(true)}}
		})
		p.Name = ""
		p = injectedBy(t, debug, p)
		p.Name = name
		return p
	}
	return []runtime.Object{
		&admissionregistrationv1.MutatingWebhookConfiguration{
			ObjectMeta: metav1.ObjectMeta{Name: "planeless", CreationTimestamp: metav1.NewTime(now.Add(-30 * 24 * time.Hour))},
			Webhooks: []admissionregistrationv1.MutatingWebhook{{
				Name: WebhookName,
				ClientConfig: admissionregistrationv1.WebhookClientConfig{
					Service:  &admissionregistrationv1.ServiceReference{Namespace: "planeless", Name: "planeless", Path: ptr.To("/inject")},
					CABundle: caPEM,
				},
				NamespaceSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
					{Key: proxy.LabelInject, Operator: metav1.LabelSelectorOpIn, Values: []string{"enabled"}},
					{Key: nameLabel, Operator: metav1.LabelSelectorOpNotIn, Values: []string{"kube-system", "planeless"}},
				}},
				ObjectSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
					{Key: proxy.LabelInject, Operator: metav1.LabelSelectorOpNotIn, Values: []string{"false", "disabled"}},
				}},
				FailurePolicy: &fail,
			}},
		},
		namespace("shop", map[string]string{proxy.LabelInject: "enabled"}, now.Add(-2*time.Hour)),
		namespace("kube-system", map[string]string{proxy.LabelInject: "enabled"}, time.Time{}),
		namespace("plain", nil, time.Time{}),
		namespace("planeless", nil, time.Time{}),
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "planeless", Namespace: "planeless"}, Spec: corev1.ServiceSpec{Selector: labels}},
		&appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "planeless", Namespace: "planeless"},
			Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					Containers: []corev1.Container{{
						Name: "webhook", Args: []string{"webhook", "--tls-cert-file=/var/run/planeless/certs/tls.crt"},
						VolumeMounts: []corev1.VolumeMount{{Name: "certs", MountPath: "/var/run/planeless/certs"}},
					}},
					Volumes: []corev1.Volume{{Name: "certs", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "planeless-tls"}}}},
				},
			}},
		},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "planeless-tls", Namespace: "planeless"}, Data: map[string][]byte{"tls.crt": read(t, "testdata/tls.crt")}},
		rs,
		rsPod("web-7d9f8b-abcde"),
		rsPod("web-7d9f8b-fghij"),
		injectedBy(t, inject.New(), pod("shop", "cart", created)),
		pod("shop", "early", now.Add(-3*time.Hour)),
		pod("shop", "agent", created, func(p *corev1.Pod) { p.Spec.HostNetwork = true }),
		pod("shop", "done", created, func(p *corev1.Pod) { p.Status.Phase = corev1.PodSucceeded }),
		pod("plain", "other", created),
		pod("kube-system", "dns", created),
	}
}

func namespace(name string, labels map[string]string, labelled time.Time) *corev1.Namespace {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{nameLabel: name}}}
	for k, v := range labels {
		ns.Labels[k] = v
	}
	if !labelled.IsZero() {
		ns.ManagedFields = []metav1.ManagedFieldsEntry{{
			Manager: "kubectl-label", Operation: metav1.ManagedFieldsOperationUpdate, Time: ptr.To(metav1.NewTime(labelled)),
			FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(`{"f:metadata":{"f:labels":{"f:` + proxy.LabelInject + `":{}}}}`),
		}}
	}
	return ns
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
