package webhook

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"

	jsonpatchapply "github.com/evanphx/json-patch/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/planeless/planeless/inject"
	_ "github.com/planeless/planeless/tests/golden"
)

// newTestServer serves the admission transport over TLS, as the API server
// would reach it, and returns it with the metrics it records.
func newTestServer(t *testing.T) (*httptest.Server, *Metrics) {
	t.Helper()
	m := NewMetrics(prometheus.NewRegistry())
	h := &Handler{Injector: inject.New(), Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Metrics: m}
	srv := httptest.NewTLSServer(newAdmissionHTTP(h, make(chan struct{}, DefaultMaxConcurrentReviews)))
	t.Cleanup(srv.Close)
	return srv, m
}

func review(t *testing.T, mutate func(r map[string]any)) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/review-rest-pod.json")
	if err != nil {
		t.Fatal(err)
	}
	var r map[string]any
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if mutate != nil {
		mutate(r)
	}
	out, _ := json.Marshal(r)
	return out
}

func podOf(r map[string]any) map[string]any {
	return r["request"].(map[string]any)["object"].(map[string]any)
}

func setAnnotation(k, v string) func(map[string]any) {
	return func(r map[string]any) {
		meta := podOf(r)["metadata"].(map[string]any)
		meta["annotations"] = map[string]any{k: v}
	}
}

func post(t *testing.T, srv *httptest.Server, contentType string, body []byte) (*http.Response, []byte) {
	t.Helper()
	resp, err := srv.Client().Post(srv.URL+Path, contentType, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, out
}

func admit(t *testing.T, srv *httptest.Server, body []byte) *admissionv1.AdmissionResponse {
	t.Helper()
	resp, out := post(t, srv, "application/json", body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, out)
	}
	var rev admissionv1.AdmissionReview
	if err := json.Unmarshal(out, &rev); err != nil {
		t.Fatalf("decoding response: %v\n%s", err, out)
	}
	if rev.APIVersion != "admission.k8s.io/v1" || rev.Kind != "AdmissionReview" {
		t.Errorf("response is %s %s, want admission.k8s.io/v1 AdmissionReview", rev.APIVersion, rev.Kind)
	}
	if rev.Response.UID != "4b7e2f1c-0d55-4a0e-9d3b-6c1e7f3a9b21" {
		t.Errorf("response uid %q does not echo the request's", rev.Response.UID)
	}
	return rev.Response
}

func TestAdmissionInjectsPodsBeingCreated(t *testing.T) {
	srv, m := newTestServer(t)
	body := review(t, nil)
	resp := admit(t, srv, body)
	if !resp.Allowed || resp.PatchType == nil || *resp.PatchType != admissionv1.PatchTypeJSONPatch {
		t.Fatalf("want an allowed JSON patch, got %+v", resp)
	}

	var r map[string]any
	_ = json.Unmarshal(body, &r)
	raw, _ := json.Marshal(podOf(r))
	patch, err := jsonpatchapply.DecodePatch(resp.Patch)
	if err != nil {
		t.Fatalf("decoding patch: %v", err)
	}
	patched, err := patch.Apply(raw)
	if err != nil {
		t.Fatalf("applying patch: %v", err)
	}
	var pod corev1.Pod
	if err := json.Unmarshal(patched, &pod); err != nil {
		t.Fatal(err)
	}
	if !inject.Injected(&pod) || len(pod.Spec.InitContainers) != 2 {
		t.Errorf("patched pod is not injected: %d init containers", len(pod.Spec.InitContainers))
	}
	if !strings.Contains(string(patched), `"someFieldFromTheFuture":{"kept":true}`) {
		t.Error("a field unknown to this binary was dropped by the patch")
	}
	if got := testutil.ToFloat64(m.admissions.WithLabelValues(resultInjected)); got != 1 {
		t.Errorf("injected admissions = %v, want 1", got)
	}
}

func TestAdmissionDecisions(t *testing.T) {
	tests := map[string]struct {
		mutate      func(map[string]any)
		wantAllowed bool
		wantPatch   bool
		wantMessage []string
		wantWarning string
		wantResult  string
	}{
		"an invalid annotation is refused naming the annotation, the value and what is allowed": {
			mutate:      setAnnotation("planeless.dev/ports", "8080:quic"),
			wantMessage: []string{"planeless.dev/ports", `"8080:quic"`, "allowed: comma-separated PORT[:PROTOCOL]", "auto, http, grpc, tcp"},
			wantResult:  resultDenied,
		},
		"a port out of range is refused": {
			mutate:      setAnnotation("planeless.dev/ports", "80800:http"),
			wantMessage: []string{"port 80800 is out of range"},
			wantResult:  resultDenied,
		},
		"an unknown annotation is a warning, and the pod is injected": {
			mutate:      setAnnotation("planeless.dev/egres", "false"),
			wantAllowed: true, wantPatch: true,
			wantWarning: "unknown annotation planeless.dev/egres is ignored; did you mean planeless.dev/egress?",
			wantResult:  resultInjected,
		},
		"an opted-out pod comes back unchanged": {
			mutate:      setAnnotation("planeless.dev/inject", "false"),
			wantAllowed: true, wantResult: resultSkipped,
		},
		"a host-network pod comes back unchanged": {
			mutate:      func(r map[string]any) { podOf(r)["spec"].(map[string]any)["hostNetwork"] = true },
			wantAllowed: true, wantResult: resultSkipped,
		},
		"an already injected pod comes back unchanged": {
			mutate:      setAnnotation("planeless.dev/status", "{}"),
			wantAllowed: true, wantResult: resultSkipped,
		},
		"an update is allowed untouched": {
			mutate:      func(r map[string]any) { r["request"].(map[string]any)["operation"] = "UPDATE" },
			wantAllowed: true, wantResult: resultSkipped,
		},
		"another resource is allowed untouched": {
			mutate: func(r map[string]any) {
				r["request"].(map[string]any)["resource"] = map[string]any{"version": "v1", "resource": "services"}
			},
			wantAllowed: true, wantResult: resultSkipped,
		},
		"an object that is not a pod is an error, not a panic": {
			mutate:     func(r map[string]any) { r["request"].(map[string]any)["object"] = []any{1, 2} },
			wantResult: resultError, wantMessage: []string{"decoding pod"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			srv, m := newTestServer(t)
			resp := admit(t, srv, review(t, tc.mutate))
			if resp.Allowed != tc.wantAllowed {
				t.Errorf("allowed = %v, want %v (%+v)", resp.Allowed, tc.wantAllowed, resp.Result)
			}
			if hasPatch := len(resp.Patch) > 0; hasPatch != tc.wantPatch {
				t.Errorf("patch present = %v, want %v", hasPatch, tc.wantPatch)
			}
			for _, want := range tc.wantMessage {
				if resp.Result == nil || !strings.Contains(resp.Result.Message, want) {
					t.Errorf("message %+v does not say %q", resp.Result, want)
				}
			}
			if tc.wantResult == resultDenied && resp.Result.Code != http.StatusBadRequest {
				t.Errorf("denial code = %d, want 400", resp.Result.Code)
			}
			if tc.wantWarning != "" && (len(resp.Warnings) != 1 || resp.Warnings[0] != tc.wantWarning) {
				t.Errorf("warnings = %q, want [%q]", resp.Warnings, tc.wantWarning)
			}
			if got := testutil.ToFloat64(m.admissions.WithLabelValues(tc.wantResult)); got != 1 {
				t.Errorf("admissions{result=%q} = %v, want 1", tc.wantResult, got)
			}
		})
	}
}

func TestMalformedRequestsGetA4xx(t *testing.T) {
	tests := map[string]struct {
		method, contentType string
		body                []byte
		want                int
	}{
		"an empty body":            {body: nil, want: http.StatusBadRequest},
		"a body that is not JSON":  {body: []byte("{not json"), want: http.StatusBadRequest},
		"a review without request": {body: []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`), want: http.StatusBadRequest},
		"a review without uid":     {body: []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{}}`), want: http.StatusBadRequest},
		"a v1beta1 review":         {body: []byte(`{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"x"}}`), want: http.StatusBadRequest},
		"another kind":             {body: []byte(`{"apiVersion":"v1","kind":"Pod"}`), want: http.StatusBadRequest},
		"a wrong content type":     {contentType: "text/plain", body: []byte("{}"), want: http.StatusUnsupportedMediaType},
		"a GET":                    {method: http.MethodGet, want: http.StatusMethodNotAllowed},
		"an oversized body":        {body: bytes.Repeat([]byte(" "), maxBodyBytes+1), want: http.StatusRequestEntityTooLarge},
	}
	srv, _ := newTestServer(t)
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			method, ct := tc.method, tc.contentType
			if method == "" {
				method = http.MethodPost
			}
			if ct == "" {
				ct = "application/json"
			}
			req, _ := http.NewRequestWithContext(t.Context(), method, srv.URL+Path, bytes.NewReader(tc.body))
			req.Header.Set("Content-Type", ct)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			msg, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.want {
				t.Errorf("status = %d, want %d (%s)", resp.StatusCode, tc.want, msg)
			}
			if len(bytes.TrimSpace(msg)) == 0 {
				t.Error("the 4xx carries no message")
			}
		})
	}
}

// FuzzAdmission sends arbitrary bodies: the transport never panics and
// answers either a 4xx or a well-formed AdmissionReview.
func FuzzAdmission(f *testing.F) {
	seed, err := os.ReadFile("testdata/review-rest-pod.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","resource":{"resource":"pods"},"operation":"CREATE","object":{"spec":{"containers":[{"name":"a","ports":[{"containerPort":99999}]}]}}}}`))
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","resource":{"resource":"pods"},"operation":"CREATE","object":null}}`))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := newAdmissionHTTP(&Handler{Injector: inject.New(), Log: log, answers: newAnswers(DefaultAnswerCacheBytes)}, make(chan struct{}, DefaultMaxConcurrentReviews))
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, Path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch {
		case rec.Code >= 400 && rec.Code < 500:
		case rec.Code == http.StatusOK:
			var rev admissionv1.AdmissionReview
			if err := json.Unmarshal(rec.Body.Bytes(), &rev); err != nil || rev.Response == nil {
				t.Fatalf("200 without a review: %v %s", err, rec.Body.Bytes())
			}
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body.Bytes())
		}
	})
}

// A review from a namespace whose Pod Security refuses what planeless-init
// needs (the chart's second webhook) is injected with a warning saying why
// the API server will refuse the pod and what to do, CNI mode first; in
// CNI mode there is nothing to warn about.
func TestPodSecurityEnforcedWarnsInInitModeOnly(t *testing.T) {
	for _, tc := range []struct{ enforced, cni, want bool }{{false, false, false}, {true, false, true}, {true, true, false}} {
		enforced := tc.enforced
		injector := inject.New()
		injector.Defaults.CNI = tc.cni
		h := &Handler{Injector: injector, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), PodSecurityEnforced: enforced}
		var r map[string]any
		_ = json.Unmarshal(review(t, nil), &r)
		var req admission.Request
		raw, _ := json.Marshal(r["request"])
		if err := json.Unmarshal(raw, &req.AdmissionRequest); err != nil {
			t.Fatal(err)
		}
		resp := h.Handle(t.Context(), req)
		if !resp.Allowed || len(resp.Patch) == 0 {
			t.Fatalf("enforced %v: the pod was not injected: %+v", enforced, resp.Result)
		}
		warned := slices.ContainsFunc(resp.Warnings, func(w string) bool {
			return strings.Contains(w, "enforces Pod Security baseline or restricted") && strings.Contains(w, "pod-security.kubernetes.io/enforce=privileged") &&
				strings.Contains(w, `planeless.dev/inject: "false"`) && strings.Contains(w, "CNI mode (chart value cni.enabled=true")
		})
		if warned != tc.want {
			t.Errorf("enforced %v, CNI mode %v: warned %v: %q", enforced, tc.cni, warned, resp.Warnings)
		}
	}
}

// A handler that panics answers the review errored, with its UID and
// status 500, counted and logged, and the transport goes on serving.
func TestAPanicIsAnsweredAsAnErroredReview(t *testing.T) {
	var logged bytes.Buffer
	m := NewMetrics(prometheus.NewRegistry())
	// No injector: the first pod reviewed dereferences nil.
	h := newAdmissionHTTP(&Handler{Log: slog.New(slog.NewJSONHandler(&logged, nil)), Metrics: m}, make(chan struct{}, 1))
	for range 2 {
		req := httptest.NewRequest(http.MethodPost, Path, bytes.NewReader(review(t, nil)))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var answer admissionv1.AdmissionReview
		if err := json.Unmarshal(rec.Body.Bytes(), &answer); err != nil || rec.Code != http.StatusOK || answer.Response == nil {
			t.Fatalf("status %d, %v: %s", rec.Code, err, rec.Body.Bytes())
		}
		r := answer.Response
		if r.Allowed || r.UID != "4b7e2f1c-0d55-4a0e-9d3b-6c1e7f3a9b21" || r.Result == nil || r.Result.Code != http.StatusInternalServerError ||
			!strings.Contains(r.Result.Message, "panic:") {
			t.Errorf("answered %+v, want the review's UID, not allowed, 500, a panic", r)
		}
	}
	if got := testutil.ToFloat64(m.admissions.WithLabelValues(resultError)); got != 2 {
		t.Errorf("%v errors counted, want 2", got)
	}
	if !strings.Contains(logged.String(), `"msg":"panic answering a review"`) {
		t.Errorf("the panic was not logged: %s", logged.String())
	}
}
