package certs

import (
	"net/http"

	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/rest"
)

// narrow returns a copy of cfg whose list and watch requests for the Secrets
// of the namespace and for MutatingWebhookConfigurations select the one
// object by name (fieldSelector=metadata.name=NAME).
//
// cert-controller's cache lists and watches every Secret of the namespace and
// every webhook configuration; narrowed, it sees only its own two objects, and
// the RBAC of the webhook can name them (the API server authorizes a list or
// watch selecting metadata.name as a request for that name).
func narrow(cfg *rest.Config, o Options) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	names := map[string]string{
		"/api/v1/namespaces/" + o.Namespace + "/secrets":                      o.SecretName,
		"/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations": o.WebhookConfigName,
	}
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return narrowing{next: rt, names: names}
	})
	return cfg
}

type narrowing struct {
	next  http.RoundTripper
	names map[string]string // collection path → the one name to select
}

func (n narrowing) RoundTrip(req *http.Request) (*http.Response, error) {
	name, ok := n.names[req.URL.Path]
	if !ok || req.Method != http.MethodGet || req.URL.Query().Has("fieldSelector") {
		return n.next.RoundTrip(req)
	}
	req = req.Clone(req.Context())
	q := req.URL.Query()
	q.Set("fieldSelector", fields.OneTermEqualSelector("metadata.name", name).String())
	req.URL.RawQuery = q.Encode()
	return n.next.RoundTrip(req)
}
