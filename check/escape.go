package check

import (
	"fmt"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/planeless/planeless/proxy"
)

// escapeReason says why a pod of a namespace the webhook selects is not
// injected, and whether the pod chose it (opting out, the host network)
// rather than slipped through.
func escapeReason(p Pod, ns Namespace, w Webhook) (reason string, chosen bool) {
	pod := p.Pod
	created := pod.CreationTimestamp.Time
	switch {
	case proxy.InjectionDisabled(pod):
		return fmt.Sprintf("opted out with %s: \"false\"", proxy.AnnotationInject), true
	case pod.Spec.HostNetwork:
		return "uses the host network", true
	case w.ObjectSelector != nil && !w.ObjectSelector.Matches(labels.Set(pod.Labels)):
		return "its labels are excluded by the webhook's objectSelector", true
	case created.Before(w.Created):
		return fmt.Sprintf("created before planeless' webhook was installed (%s)", stamp(w.Created)), false
	case !ns.LabelledAt.IsZero() && created.Before(ns.LabelledAt):
		return fmt.Sprintf("created before the namespace was labelled (%s)", stamp(ns.LabelledAt)), false
	case w.FailurePolicy == string(admissionregistrationv1.Ignore):
		return "created while the webhook did not answer (failurePolicy Ignore admits pods uninjected)", false
	}
	return "not injected, though created after the label with failurePolicy Fail: was the webhook configuration changed since?", false
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
