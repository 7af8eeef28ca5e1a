package check

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
)

// State is what Gather learnt from the cluster.
type State struct {
	Now time.Time
	// ExpiryMargin is how close to its end a certificate may be before it
	// is a problem.
	ExpiryMargin time.Duration
	// Planeless is how the user runs planeless, for the commands check
	// prints: "planeless", or "kubectl planeless" for the kubectl plugin.
	Planeless  string
	Webhook    Webhook
	Namespaces []Namespace
	Pods       []Pod
}

// Webhook is planeless' entry in a MutatingWebhookConfiguration, and what
// trying it showed.
type Webhook struct {
	// Config names the MutatingWebhookConfiguration; empty when planeless'
	// webhook is not installed.
	Config        string
	Created       time.Time
	FailurePolicy string
	// Endpoint is where the API server calls it, as a URL; URL is set when
	// the configuration gives a URL, Service when it names a Service.
	Endpoint string
	URL      string
	Service  *types.NamespacedName
	// CABundle is the configuration's caBundle (PEM).
	CABundle []byte
	// NamespaceSelector and ObjectSelector are the configuration's.
	NamespaceSelector labels.Selector
	ObjectSelector    labels.Selector
	// Labelled is the namespaceSelector without its exclusions by
	// namespace name: "labelled for injection". LabelKeys are the labels it
	// asks for (the chart's planeless.dev/inject).
	Labelled  labels.Selector
	LabelKeys []string

	// Probe is a dry-run pod created in ProbeNamespace: the API server's
	// call of the webhook, over TLS, with the caBundle.
	ProbeNamespace string
	Probe          *corev1.Pod
	ProbeError     string

	// Cert is the serving certificate, from CertSource; nil with CertError
	// when it could not be read.
	Cert       *Cert
	CertSource string
	CertError  string
	// CertName is the name the API server checks the certificate for.
	CertName string
}

// Namespace is a namespace and how the webhook treats it.
type Namespace struct {
	Name string
	// Labelled: it carries the label the webhook selects on.
	Labelled bool
	// Selected: the webhook's namespaceSelector matches it (labelled and
	// not excluded, like kube-system or the webhook's own namespace).
	Selected bool
	// LabelledAt is when the label was last set, from the namespace's
	// managed fields; zero when unknown.
	LabelledAt time.Time
}

// Pod is a pod that is injected, or that sits in a selected namespace.
type Pod struct {
	Pod      *corev1.Pod
	Workload Workload
	// Today is the pod as the webhook would store it now, for an injected
	// pod of a selected namespace; nil with TodayError when it could not be
	// learnt.
	Today      *corev1.Pod
	TodayError string
}

// Workload is what owns a pod, up to the object a user restarts.
type Workload struct {
	// Kind is Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob,
	// or Pod for a pod nothing owns.
	Kind string
	Name string
	// TemplateInjected says the workload's own pod template carries
	// planeless (it was injected with planeless inject): restarting keeps
	// that injection, the manifest must be injected again.
	TemplateInjected bool
}
