package e2e_test

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/planeless/planeless/proxy"
	"github.com/planeless/planeless/tests/certs"
)

// A second mutating webhook that adds a container, before or after planeless,
// both with reinvocationPolicy IfNeeded: the stored pod has the added
// container, exactly one proxy and one init container, and no volume twice.
func TestAnotherWebhookAddingAContainerLeavesOneProxy(t *testing.T) {
	// The API server calls webhook configurations in name order.
	tests := map[string]struct {
		configName string
		// planeless is called again only when a later webhook changed the
		// pod; it then finds the pod injected and skips it.
		reinvoked float64
	}{
		"the other webhook runs after planeless":  {"zz-adds-a-container", 1},
		"the other webhook runs before planeless": {"aa-adds-a-container", 0},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			configName := tc.configName
			s := startStack(t)
			addr := serveContainerAdder(t, s.ca)
			s.registerAdder(configName, addr)
			// Wait until the other webhook is in force, then create for real.
			eventually(t, "the other webhook to be called", func() bool {
				pod, err := s.client.CoreV1().Pods(appNS).Create(t.Context(), appPod("probe"), dryRun())
				return err == nil && containerCount(pod, "late") == 1
			})
			pod := appPod("web")
			skipped := s.webhook.admissions(t, "skipped")
			stored, err := s.client.CoreV1().Pods(appNS).Create(t.Context(), pod, metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := s.webhook.admissions(t, "skipped") - skipped; got != tc.reinvoked {
				t.Errorf("planeless was reinvoked %v times, want %v", got, tc.reinvoked)
			}
			requireInjected(t, stored)
			if n := containerCount(stored, "late"); n != 1 {
				t.Errorf("the added container appears %d times, want 1", n)
			}
		})
	}
}

func (s *stack) registerAdder(name, addr string) {
	s.t.Helper()
	url := "https://" + addr + "/add"
	none := admissionregistrationv1.SideEffectClassNone
	fail := admissionregistrationv1.Fail
	ifNeeded := admissionregistrationv1.IfNeededReinvocationPolicy
	mwc := &admissionregistrationv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Webhooks: []admissionregistrationv1.MutatingWebhook{{
			Name:         "add.example.com",
			ClientConfig: admissionregistrationv1.WebhookClientConfig{URL: &url, CABundle: s.ca.PEM},
			Rules: []admissionregistrationv1.RuleWithOperations{{
				Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
				Rule:       admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods"}},
			}},
			NamespaceSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{proxy.LabelInject: "enabled"}},
			SideEffects:             &none,
			FailurePolicy:           &fail,
			ReinvocationPolicy:      &ifNeeded,
			AdmissionReviewVersions: []string{"v1"},
		}},
	}
	if _, err := s.client.AdmissionregistrationV1().MutatingWebhookConfigurations().Create(s.t.Context(), mwc, metav1.CreateOptions{}); err != nil {
		s.t.Fatalf("registering the other webhook: %v", err)
	}
}

// serveContainerAdder serves a webhook that adds the container "late" (with
// a volume of its own) to pods that lack it.
func serveContainerAdder(t *testing.T, ca *certs.CA) string {
	t.Helper()
	pair := ca.Issue(t, t.TempDir(), "127.0.0.1")
	certFile, keyFile := pair.CertFile, pair.KeyFile
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(addContainer)}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			t.Errorf("the other webhook: %v", err)
		}
	}()
	t.Cleanup(func() { _ = srv.Close() })
	return l.Addr().String()
}

func addContainer(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	var review admissionv1.AdmissionReview
	if err == nil {
		err = json.Unmarshal(body, &review)
	}
	var pod corev1.Pod
	if err == nil && review.Request != nil {
		err = json.Unmarshal(review.Request.Object.Raw, &pod)
	}
	if err != nil || review.Request == nil {
		http.Error(w, "bad admission review", http.StatusBadRequest)
		return
	}
	resp := &admissionv1.AdmissionResponse{UID: review.Request.UID, Allowed: true}
	has := false
	for _, c := range pod.Spec.Containers {
		has = has || c.Name == "late"
	}
	if !has {
		patch, _ := json.Marshal([]map[string]any{
			{"op": "add", "path": "/spec/containers/-", "value": corev1.Container{
				Name: "late", Image: "example.com/late:v1",
				VolumeMounts: []corev1.VolumeMount{{Name: "late-data", MountPath: "/data"}},
			}},
			{"op": "add", "path": volumesPath(&pod), "value": volumesValue(&pod)},
		})
		pt := admissionv1.PatchTypeJSONPatch
		resp.Patch, resp.PatchType = patch, &pt
	}
	review.Response, review.Request = resp, nil
	_ = json.NewEncoder(w).Encode(review)
}

// volumesPath and volumesValue add the volume late-data, creating the list
// when the pod has none.
func volumesPath(pod *corev1.Pod) string {
	if len(pod.Spec.Volumes) == 0 {
		return "/spec/volumes"
	}
	return "/spec/volumes/-"
}

func volumesValue(pod *corev1.Pod) any {
	v := corev1.Volume{Name: "late-data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}
	if len(pod.Spec.Volumes) == 0 {
		return []corev1.Volume{v}
	}
	return v
}
