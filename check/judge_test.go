package check

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/planeless/planeless/inject"
	"github.com/planeless/planeless/proxy"
	"github.com/planeless/planeless/templates"
)

func TestInjectedPods(t *testing.T) {
	created := now.Add(-time.Hour)
	debug := inject.New()
	debug.Defaults.LogLevel = "debug"
	newImage := inject.New()
	newImage.Templates.Proxy.Image = "envoyproxy/envoy:v1.39.0"
	tests := map[string]struct {
		pod      *corev1.Pod
		workload Workload
		state    string
		reason   string
		fix      string
	}{
		"a pod injected as the webhook injects today is current": {
			pod: injectedBy(t, inject.New(), pod("shop", "web", created)), state: Current,
		},
		"a pod injected with another log level is stale, naming the flag": {
			pod: injectedBy(t, debug, pod("shop", "web", created)), state: Stale,
			reason: "planeless-proxy runs with --log-level debug, today warning",
			fix:    "kubectl -n shop get pod web -o yaml | planeless uninject -f - | kubectl replace --force -f -",
		},
		"a pod with an older proxy image is stale, naming both images": {
			pod:      injectedBy(t, newImage, pod("shop", "web-7d9f8b-x2x7k", created)),
			workload: Workload{Kind: "Deployment", Name: "web"},
			state:    Stale,
			reason:   "planeless-proxy image envoyproxy/envoy:v1.39.0, today envoyproxy/envoy:v" + templates.EnvoyVersion,
			fix:      "kubectl -n shop rollout restart deployment/web",
		},
		"a pod injected by an older planeless is stale, naming both versions": {
			pod: withStatusVersion(t, injectedBy(t, inject.New(), pod("shop", "web", created)), "0.0.9"), state: Stale,
			reason: "injected by planeless 0.0.9, the webhook runs " + templates.Version,
			fix:    "kubectl -n shop get pod web -o yaml | planeless uninject -f - | kubectl replace --force -f -",
		},
		"a stale pod whose template carries the injection is fixed in its manifest": {
			pod:      injectedBy(t, debug, pod("shop", "db-0", created)),
			workload: Workload{Kind: "StatefulSet", Name: "db", TemplateInjected: true},
			state:    Stale,
			fix:      "its pod template was injected with planeless inject: inject the statefulset's manifest again and apply it",
		},
		"an injected pod of a namespace the webhook leaves alone is not compared": {
			pod: injectedBy(t, debug, pod("plain", "web", created)), state: Outside,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			w := tc.workload
			if w.Kind == "" {
				w = Workload{Kind: "Pod", Name: tc.pod.Name}
			}
			p := Pod{Pod: tc.pod, Workload: w}
			if tc.pod.Namespace == "shop" {
				p.Today = today(t, tc.pod)
			}
			r := Judge(&State{Now: now, Webhook: webhook(t), Namespaces: namespaces(), Pods: []Pod{p}})
			got := r.Pods[0]
			if got.State != tc.state || got.Fix != tc.fix || (tc.reason != "" && !hasReason(got.Reasons, tc.reason)) {
				t.Errorf("report = %+v, want state %s, reason %q, fix %q", got, tc.state, tc.reason, tc.fix)
			}
			if wantOK := tc.state == Current || tc.state == Outside; r.OK != wantOK {
				t.Errorf("OK = %v, want %v (problems %q)", r.OK, wantOK, r.Problems)
			}
		})
	}
}

func TestEscapedPods(t *testing.T) {
	installed := webhook(t).Created
	labelled := now.Add(-24 * time.Hour)
	tests := map[string]struct {
		pod      *corev1.Pod
		ignore   bool
		reason   string
		escaped  bool
		fixNamed bool
	}{
		"opted out by label": {
			pod: pod("shop", "a", now, func(p *corev1.Pod) { p.Labels[proxy.LabelInject] = "false" }), reason: "opted out",
		},
		"opted out by annotation": {
			pod: pod("shop", "a", now, func(p *corev1.Pod) { p.Annotations = map[string]string{proxy.AnnotationInject: "false"} }), reason: "opted out",
		},
		"on the host network": {
			pod: pod("shop", "a", now, func(p *corev1.Pod) { p.Spec.HostNetwork = true }), reason: "uses the host network",
		},
		"created before planeless was installed": {
			pod: pod("shop", "a", installed.Add(-time.Minute)), escaped: true, reason: "created before planeless' webhook was installed (2026-10-31T12:00:00Z)",
		},
		"created before the namespace was labelled": {
			pod: pod("shop", "a", labelled.Add(-time.Second)), escaped: true, reason: "created before the namespace was labelled (2026-11-29T12:00:00Z)",
		},
		"created while the webhook did not answer, with failurePolicy Ignore": {
			pod: pod("shop", "a", now), ignore: true, escaped: true, reason: "failurePolicy Ignore",
		},
		"created after the label with failurePolicy Fail": {
			pod: pod("shop", "a", now), escaped: true, reason: "was the webhook configuration changed since?",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			w := webhook(t)
			if tc.ignore {
				w.FailurePolicy = "Ignore"
			}
			r := Judge(&State{Now: now, Webhook: w, Namespaces: namespaces(), Pods: []Pod{{Pod: tc.pod, Workload: Workload{Kind: "Pod", Name: "a"}}}})
			got := r.Pods[0]
			wantState := Skipped
			if tc.escaped {
				wantState = Escaped
			}
			if got.State != wantState || !hasReason(got.Reasons, tc.reason) {
				t.Errorf("report = %+v, want %s because %q", got, wantState, tc.reason)
			}
			if tc.escaped != (got.Fix != "") || r.OK == tc.escaped {
				t.Errorf("fix %q and OK %v for an escaped (%v) pod", got.Fix, r.OK, tc.escaped)
			}
		})
	}
}

func TestWebhookStates(t *testing.T) {
	tests := map[string]struct {
		edit      func(*Webhook)
		reachable string
		problem   string
		warning   string
	}{
		"answering": {edit: func(*Webhook) {}, reachable: Yes},
		"refusing pods (failurePolicy Fail)": {
			edit: func(w *Webhook) {
				w.Probe = nil
				w.ProbeError = `Internal error occurred: failed calling webhook "inject.planeless.dev": connection refused`
			},
			reachable: No, problem: "pods of labelled namespaces are refused",
		},
		"admitting pods uninjected (failurePolicy Ignore)": {
			edit:      func(w *Webhook) { w.FailurePolicy, w.Probe = "Ignore", pod("shop", "probe", now) },
			reachable: No, problem: "pods are created without planeless",
		},
		"not tried without a labelled namespace": {
			edit:      func(w *Webhook) { w.ProbeNamespace, w.Probe = "", nil },
			reachable: Unknown,
		},
		"not tried for a reason of the pod's own": {
			edit: func(w *Webhook) {
				w.Probe, w.ProbeError = nil, `pods "planeless-check-" is forbidden: exceeded quota`
			},
			reachable: Unknown, warning: "exceeded quota",
		},
		"a certificate that could not be read": {
			edit:      func(w *Webhook) { w.CertError = "reading Secret planeless/planeless-tls: forbidden" },
			reachable: Yes, warning: "could not read the webhook's certificate: reading Secret",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			w := webhook(t)
			tc.edit(&w)
			r := Judge(&State{Now: now, Webhook: w, Namespaces: namespaces()})
			if r.Webhook.Reachable != tc.reachable {
				t.Errorf("reachable = %s, want %s (%s)", r.Webhook.Reachable, tc.reachable, r.Webhook.Detail)
			}
			if (tc.problem == "") != r.OK || (tc.problem != "" && !hasReason(r.Problems, tc.problem)) {
				t.Errorf("problems = %q, want %q", r.Problems, tc.problem)
			}
			if (tc.warning == "") != (len(r.Warnings) == 0) || (tc.warning != "" && !hasReason(r.Warnings, tc.warning)) {
				t.Errorf("warnings = %q, want %q", r.Warnings, tc.warning)
			}
		})
	}
}

func TestNoWebhookIsAProblem(t *testing.T) {
	r := Judge(&State{Now: now})
	if r.OK || r.Webhook.Installed || !hasReason(r.Problems, "planeless' webhook is not installed") {
		t.Errorf("report = %+v", r)
	}
}

func namespaces() []Namespace {
	return []Namespace{
		{Name: "shop", Labelled: true, Selected: true, LabelledAt: now.Add(-24 * time.Hour)},
		{Name: "kube-system", Labelled: true},
		{Name: "plain"},
	}
}

func hasReason(list []string, part string) bool {
	for _, s := range list {
		if strings.Contains(s, part) {
			return true
		}
	}
	return false
}

// withStatusVersion rewrites the version in the pod's status annotation,
// as an older planeless would have written it.
func withStatusVersion(t *testing.T, p *corev1.Pod, version string) *corev1.Pod {
	t.Helper()
	s := p.Annotations[proxy.AnnotationStatus]
	p.Annotations[proxy.AnnotationStatus] = strings.Replace(s, `"version":"`+templates.Version+`"`, `"version":"`+version+`"`, 1)
	return p
}
