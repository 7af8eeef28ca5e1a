package certs

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"sync/atomic"

	"github.com/open-policy-agent/cert-controller/pkg/rotator"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// FieldOwner is the field manager of the caBundle and Secret writes.
const FieldOwner = "planeless-webhook"

// controllers numbers the controllers of each Manager: controller-runtime
// refuses two controllers of one name in a process.
var controllers atomic.Int64

// Manager keeps the serving certificate and the caBundle current.
type Manager struct {
	mgr    manager.Manager
	keeper *keeper
	secret types.NamespacedName
}

// New prepares certificate management; Run runs it.
func New(cfg *rest.Config, opts Options) (*Manager, error) {
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("certificate options: %w", err)
	}
	if err := os.MkdirAll(opts.CertDir, 0o700); err != nil && !os.IsExist(err) {
		return nil, fmt.Errorf("creating the certificate folder: %w", err)
	}
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, fmt.Errorf("building the scheme: %w", err)
	}
	secretKey := types.NamespacedName{Namespace: opts.Namespace, Name: opts.SecretName}
	mgr, err := manager.New(narrow(cfg, opts), manager.Options{
		Scheme:  scheme,
		Logger:  Quiet(klog.NewKlogr().WithName("certs")).V(1),
		Metrics: metricsserver.Options{BindAddress: "0"},
		Cache: cache.Options{ByObject: map[client.Object]cache.ByObject{
			// The keeper sees the one Secret and the one configuration.
			&corev1.Secret{}: {
				Namespaces: map[string]cache.Config{opts.Namespace: {}},
				Field:      fields.OneTermEqualSelector("metadata.name", opts.SecretName),
			},
			&admissionregistrationv1.MutatingWebhookConfiguration{}: {
				Field: fields.OneTermEqualSelector("metadata.name", opts.WebhookConfigName),
			},
		}},
	})
	if err != nil {
		return nil, fmt.Errorf("creating the certificate manager: %w", err)
	}
	n := controllers.Add(1)
	names := opts.dnsNames()
	if err := rotator.AddRotator(mgr, &rotator.CertRotator{
		SecretKey:      secretKey,
		CertDir:        opts.CertDir,
		CAName:         "planeless-ca",
		CAOrganization: "planeless",
		DNSName:        names[0],
		ExtraDNSNames:  names[1:],
		// Readiness is the keeper's: the rotator's waits for the files.
		IsReady:        make(chan struct{}),
		Webhooks:       []rotator.WebhookInfo{{Name: opts.WebhookConfigName, Type: rotator.Mutating}},
		FieldOwner:     FieldOwner,
		ControllerName: fmt.Sprintf("planeless-cert-rotator-%d", n),
	}); err != nil {
		return nil, fmt.Errorf("adding the certificate rotator: %w", err)
	}
	k := newKeeper(opts)
	if err := k.add(mgr, fmt.Sprintf("planeless-cert-keeper-%d", n)); err != nil {
		return nil, err
	}
	return &Manager{mgr: mgr, keeper: k, secret: secretKey}, nil
}

// Run creates the Secret if it does not exist and manages the certificate
// until ctx ends; an error stops it and is returned (the webhook then
// stops: run it in the same group as the server).
func (m *Manager) Run(ctx context.Context) error {
	if err := ensureSecret(ctx, m.mgr.GetAPIReader(), m.mgr.GetClient(), m.secret); err != nil {
		return err
	}
	if err := m.mgr.Start(ctx); err != nil {
		return fmt.Errorf("certificate management stopped: %w", err)
	}
	return nil
}

// Ready is closed once a valid certificate is served and the caBundle of
// the webhook configuration (if it exists yet) is the Secret's CA.
func (m *Manager) Ready() <-chan struct{} { return m.keeper.ready }

// GetCertificate serves the Secret's current certificate from memory.
func (m *Manager) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	return m.keeper.GetCertificate(hello)
}

// ensureSecret creates the empty Secret the rotator fills, unless it exists
// (the chart creates it, so the webhook needs no right to create Secrets).
func ensureSecret(ctx context.Context, r client.Reader, w client.Writer, key types.NamespacedName) error {
	err := r.Get(ctx, key, &corev1.Secret{})
	if err == nil {
		return nil
	}
	if !apierrors.IsNotFound(err) {
		return fmt.Errorf("reading Secret %s: %w", key, err)
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name},
		Type:       corev1.SecretTypeOpaque,
	}
	if err := w.Create(ctx, secret, client.FieldOwner(FieldOwner)); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating Secret %s: %w", key, err)
	}
	return nil
}
