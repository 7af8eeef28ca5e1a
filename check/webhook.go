package check

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// WebhookName is planeless' webhook in its MutatingWebhookConfiguration.
const WebhookName = "inject.planeless.dev"

// nameLabel is the label every namespace carries with its own name; the
// chart's namespaceSelector excludes namespaces by it.
const nameLabel = "kubernetes.io/metadata.name"

// findWebhook reads planeless' webhook from the cluster's
// MutatingWebhookConfigurations; Config stays empty when there is none.
func findWebhook(ctx context.Context, client kubernetes.Interface) (Webhook, error) {
	list, err := client.AdmissionregistrationV1().MutatingWebhookConfigurations().List(ctx, metav1.ListOptions{})
	if err != nil {
		return Webhook{}, fmt.Errorf("listing MutatingWebhookConfigurations: %w", err)
	}
	slices.SortFunc(list.Items, func(a, b admissionregistrationv1.MutatingWebhookConfiguration) int {
		return strings.Compare(a.Name, b.Name)
	})
	for _, cfg := range list.Items {
		for _, wh := range cfg.Webhooks {
			if wh.Name == WebhookName {
				return webhookOf(cfg, wh)
			}
		}
	}
	return Webhook{}, nil
}

func webhookOf(cfg admissionregistrationv1.MutatingWebhookConfiguration, wh admissionregistrationv1.MutatingWebhook) (Webhook, error) {
	w := Webhook{
		Config:        cfg.Name,
		Created:       cfg.CreationTimestamp.Time,
		FailurePolicy: string(admissionregistrationv1.Fail),
		CABundle:      wh.ClientConfig.CABundle,
	}
	if wh.FailurePolicy != nil {
		w.FailurePolicy = string(*wh.FailurePolicy)
	}
	switch cc := wh.ClientConfig; {
	case cc.URL != nil:
		w.Endpoint, w.URL = *cc.URL, *cc.URL
		u, err := url.Parse(*cc.URL)
		if err != nil {
			return Webhook{}, fmt.Errorf("MutatingWebhookConfiguration %s: webhook %s: invalid url %q: %w", cfg.Name, wh.Name, *cc.URL, err)
		}
		w.CertName = u.Hostname()
	case cc.Service != nil:
		s := cc.Service
		port := int32(443)
		if s.Port != nil {
			port = *s.Port
		}
		w.Service = &types.NamespacedName{Namespace: s.Namespace, Name: s.Name}
		w.CertName = s.Name + "." + s.Namespace + ".svc"
		w.Endpoint = fmt.Sprintf("https://%s:%d%s", w.CertName, port, pathOf(s.Path))
	}
	var err error
	if w.NamespaceSelector, err = selector(wh.NamespaceSelector, false); err != nil {
		return Webhook{}, fmt.Errorf("MutatingWebhookConfiguration %s: namespaceSelector: %w", cfg.Name, err)
	}
	if w.Labelled, err = selector(wh.NamespaceSelector, true); err != nil {
		return Webhook{}, fmt.Errorf("MutatingWebhookConfiguration %s: namespaceSelector: %w", cfg.Name, err)
	}
	if w.ObjectSelector, err = selector(wh.ObjectSelector, false); err != nil {
		return Webhook{}, fmt.Errorf("MutatingWebhookConfiguration %s: objectSelector: %w", cfg.Name, err)
	}
	if s := wh.NamespaceSelector; s != nil {
		for k := range s.MatchLabels {
			w.LabelKeys = append(w.LabelKeys, k)
		}
		for _, e := range s.MatchExpressions {
			if e.Key != nameLabel {
				w.LabelKeys = append(w.LabelKeys, e.Key)
			}
		}
		slices.Sort(w.LabelKeys)
	}
	return w, nil
}

func pathOf(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// selector converts a label selector (nil selects everything); without
// names, it drops the requirements on a namespace's name, leaving "is
// labelled for injection".
func selector(s *metav1.LabelSelector, withoutNames bool) (labels.Selector, error) {
	if s == nil {
		return labels.Everything(), nil
	}
	if withoutNames {
		s = s.DeepCopy()
		s.MatchExpressions = slices.DeleteFunc(s.MatchExpressions, func(e metav1.LabelSelectorRequirement) bool { return e.Key == nameLabel })
		delete(s.MatchLabels, nameLabel)
	}
	return metav1.LabelSelectorAsSelector(s)
}

// probePod is the pod check creates, as a dry run, to see the API server
// call the webhook.
func probePod(namespace string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: "planeless-check-",
			Namespace:    namespace,
			Labels:       map[string]string{"app.kubernetes.io/name": "planeless-check"},
		},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name:  "probe",
			Image: "registry.k8s.io/pause:3.10",
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
		}}},
	}
}

// servedCert reads the certificate a webhook serves at a URL, with a TLS
// handshake of its own: check judges the chain itself, to say what is
// wrong with it rather than only that the handshake failed.
func servedCert(ctx context.Context, endpoint string, timeout time.Duration) (*Cert, string, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, "", fmt.Errorf("invalid url %q: %w", endpoint, err)
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "443")
	}
	source := "served at " + addr
	dialer := &tls.Dialer{
		NetDialer: &net.Dialer{Timeout: timeout},
		// Verified by judgeCert against the configuration's caBundle.
		Config: &tls.Config{ServerName: u.Hostname(), InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}, //nolint:gosec
	}
	conn, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, source, fmt.Errorf("connecting to %s: %w", addr, err)
	}
	defer conn.Close()
	peer := conn.(*tls.Conn).ConnectionState().PeerCertificates
	if len(peer) == 0 {
		return nil, source, fmt.Errorf("%s presented no certificate", addr)
	}
	return &Cert{Chain: peer}, source, nil
}

// secretCert reads the certificate of a webhook behind a Service from the
// Secret its pods serve it from: the Deployment selected by the Service
// names it, as the volume holding --tls-cert-file, or in --secret-name
// when the webhook manages its own certificate.
func secretCert(ctx context.Context, client kubernetes.Interface, namespace, service string) (*Cert, string, error) {
	svc, err := client.CoreV1().Services(namespace).Get(ctx, service, metav1.GetOptions{})
	if err != nil {
		return nil, "", fmt.Errorf("reading Service %s/%s: %w", namespace, service, err)
	}
	deployments, err := client.AppsV1().Deployments(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, "", fmt.Errorf("listing Deployments in %s: %w", namespace, err)
	}
	sel := labels.SelectorFromSet(svc.Spec.Selector)
	for _, d := range deployments.Items {
		if len(svc.Spec.Selector) == 0 || !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
			continue
		}
		secret, key := certSecret(d.Spec.Template.Spec)
		if secret == "" {
			continue
		}
		source := fmt.Sprintf("Secret %s/%s, key %s", namespace, secret, key)
		s, err := client.CoreV1().Secrets(namespace).Get(ctx, secret, metav1.GetOptions{})
		if err != nil {
			return nil, source, fmt.Errorf("reading Secret %s/%s: %w", namespace, secret, err)
		}
		c, err := parseChain(s.Data[key])
		if err != nil {
			return nil, source, fmt.Errorf("reading the certificate in Secret %s/%s, key %s: %w", namespace, secret, key, err)
		}
		return c, source, nil
	}
	return nil, "", fmt.Errorf("no Deployment behind Service %s/%s names the Secret of its certificate", namespace, service)
}

// certSecret finds, in the webhook's pod spec, the Secret and key of its
// serving certificate.
func certSecret(spec corev1.PodSpec) (secret, key string) {
	for _, c := range spec.Containers {
		var certFile string
		for _, a := range c.Args {
			switch {
			case strings.HasPrefix(a, "--tls-cert-file="):
				certFile = strings.TrimPrefix(a, "--tls-cert-file=")
			case strings.HasPrefix(a, "--secret-name="):
				secret = strings.TrimPrefix(a, "--secret-name=")
			}
		}
		if secret != "" {
			return secret, "tls.crt"
		}
		for _, m := range c.VolumeMounts {
			if certFile == "" || path.Clean(m.MountPath) != path.Dir(certFile) {
				continue
			}
			for _, v := range spec.Volumes {
				if v.Name == m.Name && v.Secret != nil {
					return v.Secret.SecretName, path.Base(certFile)
				}
			}
		}
	}
	return "", ""
}
