package check

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Renderer says what the webhook would store for a pod created now.
type Renderer interface {
	Render(ctx context.Context, pod *corev1.Pod) (*corev1.Pod, error)
}

// DryRun renders through the API server: a server-side dry-run create,
// which runs every admission step, calls the webhook over TLS as for a real
// pod, and stores nothing. It needs the right to create pods.
type DryRun struct{ Client kubernetes.Interface }

// Render implements Renderer.
func (d DryRun) Render(ctx context.Context, pod *corev1.Pod) (*corev1.Pod, error) {
	return d.Client.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
}

// Options say where and how Gather looks.
type Options struct {
	Client kubernetes.Interface
	// Renderer learns today's injection; DryRun through Client when nil.
	Renderer Renderer
	// Namespace limits the namespaces and pods reported; all when empty.
	Namespace string
	// Now dates certificates and escapes; time.Now when zero.
	Now time.Time
	// DialTimeout bounds the TLS handshake with a webhook reached by URL.
	DialTimeout time.Duration
	// ExpiryMargin: a certificate this close to its end is a problem;
	// DefaultExpiryMargin when zero.
	ExpiryMargin time.Duration
	// Planeless is how the user runs planeless (State.Planeless).
	Planeless string
}

// Gather reads what check reports from the cluster: planeless' webhook
// configuration, a dry-run pod through it, its serving certificate, the
// namespaces and the pods. Failing to read the configuration, namespaces
// or pods is an error; what the webhook and its certificate answer is part
// of the State.
func Gather(ctx context.Context, o Options) (*State, error) {
	if o.Renderer == nil {
		o.Renderer = DryRun{Client: o.Client}
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.DialTimeout == 0 {
		o.DialTimeout = 5 * time.Second
	}
	if o.ExpiryMargin == 0 {
		o.ExpiryMargin = DefaultExpiryMargin
	}
	w, err := findWebhook(ctx, o.Client)
	if err != nil {
		return nil, err
	}
	s := &State{Now: o.Now, ExpiryMargin: o.ExpiryMargin, Planeless: o.Planeless, Webhook: w}
	if w.Config == "" {
		return s, nil
	}
	all, err := gatherNamespaces(ctx, o.Client, w, "")
	if err != nil {
		return nil, err
	}
	for _, ns := range all {
		if o.Namespace == "" || ns.Name == o.Namespace {
			s.Namespaces = append(s.Namespaces, ns)
		}
		if ns.Selected && (s.Webhook.ProbeNamespace == "" || ns.Name == o.Namespace) {
			s.Webhook.ProbeNamespace = ns.Name
		}
	}
	if o.Namespace != "" && len(s.Namespaces) == 0 {
		return nil, fmt.Errorf("namespace %q not found", o.Namespace)
	}
	if ns := s.Webhook.ProbeNamespace; ns != "" {
		probe, err := o.Renderer.Render(ctx, probePod(ns))
		if err != nil {
			s.Webhook.ProbeError = err.Error()
		} else {
			s.Webhook.Probe = probe
		}
	}
	gatherCert(ctx, o, &s.Webhook)
	if s.Pods, err = gatherPods(ctx, o.Client, o.Renderer, o.Namespace, all); err != nil {
		return nil, err
	}
	return s, nil
}

func gatherCert(ctx context.Context, o Options, w *Webhook) {
	var err error
	switch {
	case w.URL != "":
		w.Cert, w.CertSource, err = servedCert(ctx, w.URL, o.DialTimeout)
	case w.Service != nil:
		w.Cert, w.CertSource, err = secretCert(ctx, o.Client, w.Service.Namespace, w.Service.Name)
	}
	if err != nil {
		w.CertError = err.Error()
	}
}
