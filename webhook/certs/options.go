package certs

import (
	"errors"
	"fmt"
)

// Options name the objects certificate management works on.
type Options struct {
	// Namespace holds the Secret and the Service (the webhook's own).
	Namespace string
	// SecretName is the Secret holding the CA and the serving certificate.
	SecretName string
	// ServiceName is the Service the API server calls the webhook through;
	// the certificate is valid for its DNS names.
	ServiceName string
	// WebhookConfigName is the MutatingWebhookConfiguration whose caBundle is
	// kept current.
	WebhookConfigName string
	// CertDir holds tls.crt and tls.key: the Secret mounted by the kubelet
	// (read-only), or a folder the webhook writes them into.
	CertDir string
}

// Files in CertDir.
const (
	CertFile = "tls.crt"
	KeyFile  = "tls.key"
)

func (o Options) validate() error {
	var errs []error
	for _, f := range []struct{ name, value string }{
		{"namespace", o.Namespace},
		{"secret name", o.SecretName},
		{"service name", o.ServiceName},
		{"webhook config name", o.WebhookConfigName},
		{"cert dir", o.CertDir},
	} {
		if f.value == "" {
			errs = append(errs, fmt.Errorf("%s is required", f.name))
		}
	}
	return errors.Join(errs...)
}

// dnsNames returns the names the API server may use to reach the Service;
// the first is the one it uses for a service reference.
func (o Options) dnsNames() []string {
	svc, ns := o.ServiceName, o.Namespace
	return []string{
		svc + "." + ns + ".svc",
		svc,
		svc + "." + ns,
		svc + "." + ns + ".svc.cluster.local",
	}
}
