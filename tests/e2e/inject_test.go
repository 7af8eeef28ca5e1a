package e2e_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/planeless/planeless/inject"
	_ "github.com/planeless/planeless/tests/golden"
	"github.com/planeless/planeless/tests/need"
)

// The pod the API server stores is the one `planeless inject` writes for the
// same input: for a bare pod, and for a Deployment's pod created the way its
// ReplicaSet creates it (generateName, pod-template-hash, owner reference).
func TestStoredPodIsWhatPlanelessInjectWrites(t *testing.T) {
	s := startStack(t)
	ctx := t.Context()

	t.Run("a pod", func(t *testing.T) {
		pod := appPod("web")
		pod.Namespace = appNS
		stored, err := s.client.CoreV1().Pods(appNS).Create(ctx, pod, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("creating the pod: %v", err)
		}
		requireInjected(t, stored)
		var want corev1.Pod
		s.cliInject(pod, &want)
		sameStoredPod(t, s.defaulted(&want), stored)
	})

	t.Run("a deployment's pod, created as its replica set creates it", func(t *testing.T) {
		const hash = "5d4f8b9c7"
		deploy := &appsv1.Deployment{
			TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: appNS},
			Spec: appsv1.DeploymentSpec{
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
					Spec:       appPod("").Spec,
				},
			},
		}
		// The ReplicaSet's pod: its template plus the hash label, named by
		// generateName, owned by the ReplicaSet.
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{
				GenerateName: "web-" + hash + "-",
				Namespace:    appNS,
				Labels:       map[string]string{"app": "web", "pod-template-hash": hash},
				OwnerReferences: []metav1.OwnerReference{{
					APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-" + hash,
					UID: types.UID("9d9ab9b4-2d6e-4a43-9a57-0f0e6f1b0f3a"), Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
				}},
			},
			Spec: *deploy.Spec.Template.Spec.DeepCopy(),
		}
		stored, err := s.client.CoreV1().Pods(appNS).Create(ctx, pod, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("creating the replica set's pod: %v", err)
		}
		requireInjected(t, stored)

		var injectedDeploy appsv1.Deployment
		s.cliInject(deploy, &injectedDeploy)
		tmpl := injectedDeploy.Spec.Template
		want := &corev1.Pod{ObjectMeta: *tmpl.ObjectMeta.DeepCopy(), Spec: tmpl.Spec}
		want.GenerateName = pod.GenerateName
		want.Labels["pod-template-hash"] = hash
		want.OwnerReferences = pod.OwnerReferences
		sameStoredPod(t, s.defaulted(want), stored)
	})
}

// Pods planeless must not touch are stored exactly as they would be without
// the webhook, even where a namespace that is never injected carries the
// label.
func TestPodsPlanelessMustNotTouchAreStoredUnchanged(t *testing.T) {
	s := startStack(t)
	s.label("kube-system", "planeless.dev/inject", "enabled")
	s.label(releaseNS, "planeless.dev/inject", "enabled")

	tests := map[string]struct {
		namespace string
		edit      func(*corev1.Pod)
	}{
		"a pod in a namespace without the label": {plainNS, func(*corev1.Pod) {}},
		"a pod in kube-system":                   {"kube-system", func(*corev1.Pod) {}},
		"a pod in the webhook's own namespace":   {releaseNS, func(*corev1.Pod) {}},
		"a pod opted out by label":               {appNS, func(p *corev1.Pod) { p.Labels["planeless.dev/inject"] = "disabled" }},
		"a pod opted out by annotation": {appNS, func(p *corev1.Pod) {
			p.Annotations = map[string]string{"planeless.dev/inject": "false"}
		}},
		"a host-network pod": {appNS, func(p *corev1.Pod) { p.Spec.HostNetwork = true }},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			pod := appPod("")
			pod.GenerateName = "untouched-"
			tc.edit(pod)
			pod.Namespace = tc.namespace
			stored, err := s.client.CoreV1().Pods(tc.namespace).Create(t.Context(), pod, metav1.CreateOptions{})
			if err != nil {
				t.Fatalf("creating the pod: %v", err)
			}
			if injected(stored) {
				t.Fatal("the pod was injected")
			}
			sameStoredPod(t, s.defaulted(pod), stored)
		})
	}
}

// An invalid annotation refuses the pod, through client-go and kubectl, with
// an error naming the annotation and the values it accepts.
func TestInvalidAnnotationIsRefusedNamingTheAllowedValues(t *testing.T) {
	s := startStack(t)
	pod := appPod("bad")
	pod.Namespace = appNS
	pod.Annotations = map[string]string{"planeless.dev/egress": "sometimes"}
	wantParts := []string{`"sometimes"`, "planeless.dev/egress", "allowed:"}

	_, err := s.client.CoreV1().Pods(appNS).Create(t.Context(), pod, metav1.CreateOptions{})
	if err == nil {
		t.Fatal("the pod was created")
	}
	for _, part := range wantParts {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("client-go's error %q does not contain %s", err, part)
		}
	}

	manifest, _ := yamlOf(t, pod)
	_, stderr, err := s.kubectl(manifest, "apply", "-f", "-")
	if err == nil {
		t.Fatal("kubectl apply created the pod")
	}
	for _, part := range wantParts {
		if !strings.Contains(stderr, part) {
			t.Errorf("kubectl's error %q does not contain %s", stderr, part)
		}
	}
	if pods, err := s.client.CoreV1().Pods(appNS).List(t.Context(), metav1.ListOptions{}); err != nil || len(pods.Items) != 0 {
		t.Errorf("a refused pod was stored (%d pods, err %v)", len(pods.Items), err)
	}
}

// The webhook's warnings reach client-go and kubectl.
func TestWarningsReachTheClient(t *testing.T) {
	s := startStack(t)
	pod := appPod("scraped")
	pod.Namespace = appNS
	// The pod's own scrape annotations win; planeless warns that it left them.
	pod.Annotations = map[string]string{"prometheus.io/scrape": "false"}

	client, rec := s.warnings()
	stored, err := client.CoreV1().Pods(appNS).Create(t.Context(), pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	requireInjected(t, stored)
	if !slices.ContainsFunc(rec.all(), func(w string) bool { return strings.Contains(w, "prometheus.io/scrape") }) {
		t.Errorf("client-go got no warning about prometheus.io/scrape: %q", rec.all())
	}

	pod.Name = "scraped-by-kubectl"
	manifest, _ := yamlOf(t, pod)
	_, stderr, err := s.kubectl(manifest, "apply", "-f", "-")
	if err != nil {
		t.Fatalf("kubectl apply: %v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "Warning:") || !strings.Contains(stderr, "prometheus.io/scrape") {
		t.Errorf("kubectl printed no warning about prometheus.io/scrape: %q", stderr)
	}
}

// A server-side dry run returns the injected pod and stores nothing.
func TestServerSideDryRunReturnsTheInjectedPodAndStoresNothing(t *testing.T) {
	s := startStack(t)
	pod := appPod("dry")
	pod.Namespace = appNS
	got, err := s.client.CoreV1().Pods(appNS).Create(t.Context(), pod, dryRun())
	if err != nil {
		t.Fatal(err)
	}
	requireInjected(t, got)
	if _, err := s.client.CoreV1().Pods(appNS).Get(t.Context(), "dry", metav1.GetOptions{}); err == nil {
		t.Error("the dry-run pod was stored")
	}
	stored, err := s.client.CoreV1().Pods(appNS).Create(t.Context(), pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sameStoredPod(t, got, stored)
}

// Every pod of the corpus is stored exactly as `planeless inject` writes
// it: the webhook and the CLI are one door, through the real API server.
func TestEveryCorpusPodIsStoredAsInjectWritesIt(t *testing.T) {
	s := startStack(t)
	files, err := filepath.Glob(filepath.Join(need.RepoRoot(), "tests", "corpus", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	n := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range strings.Split(string(data), "\n---\n") {
			var obj unstructured.Unstructured
			if err := yaml.Unmarshal([]byte(doc), &obj.Object); err != nil || obj.Object == nil || !inject.PodBearing(obj.GetKind()) {
				continue
			}
			n++
			obj.SetNamespace(appNS)
			t.Run(filepath.Base(file)+"/"+obj.GetKind()+"/"+obj.GetName(), func(t *testing.T) {
				pod, err := inject.PodOf(&obj)
				if err != nil {
					t.Fatal(err)
				}
				stored, err := s.client.CoreV1().Pods(appNS).Create(t.Context(), pod, dryRun())
				if err != nil {
					t.Fatalf("creating the pod: %v", err)
				}
				requireInjected(t, stored)
				var printed unstructured.Unstructured
				s.cliInject(obj.Object, &printed.Object)
				want, err := inject.PodOf(&printed)
				if err != nil {
					t.Fatal(err)
				}
				sameStoredPod(t, s.defaulted(want), stored)
			})
		}
	}
	if n < 4 {
		t.Fatalf("only %d pods in the corpus", n)
	}
}
