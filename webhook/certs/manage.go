package certs

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"

	"github.com/open-policy-agent/cert-controller/pkg/rotator"
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

// controllers numbers the controllers of each Manage call: controller-runtime
// refuses two controllers of one name in a process.
var controllers atomic.Int64

// Manage starts certificate management in the background; it runs until ctx
// ends. The Secret is created if it does not exist. ready is closed once
// tls.crt and tls.key are in opts.CertDir and the caBundle of the webhook
// configuration (if it exists yet) has been brought up to date.
func Manage(ctx context.Context, cfg *rest.Config, opts Options) (ready <-chan struct{}, err error) {
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("certificate options: %w", err)
	}
	if err := os.MkdirAll(opts.CertDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating the certificate folder: %w", err)
	}
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, fmt.Errorf("building the scheme: %w", err)
	}
	secretKey := types.NamespacedName{Namespace: opts.Namespace, Name: opts.SecretName}
	mgr, err := manager.New(narrow(cfg, opts), manager.Options{
		Scheme:  scheme,
		Logger:  klog.NewKlogr().WithName("certs").V(1),
		Metrics: metricsserver.Options{BindAddress: "0"},
		Cache: cache.Options{ByObject: map[client.Object]cache.ByObject{
			// The file writer sees the one Secret it copies from.
			&corev1.Secret{}: {
				Namespaces: map[string]cache.Config{opts.Namespace: {}},
				Field:      fields.OneTermEqualSelector("metadata.name", opts.SecretName),
			},
		}},
	})
	if err != nil {
		return nil, fmt.Errorf("creating the certificate manager: %w", err)
	}
	if err := ensureSecret(ctx, mgr.GetAPIReader(), mgr.GetClient(), secretKey); err != nil {
		return nil, err
	}

	n := controllers.Add(1)
	isReady := make(chan struct{})
	names := opts.dnsNames()
	if err := rotator.AddRotator(mgr, &rotator.CertRotator{
		SecretKey:      secretKey,
		CertDir:        opts.CertDir,
		CAName:         "planeless-ca",
		CAOrganization: "planeless",
		DNSName:        names[0],
		ExtraDNSNames:  names[1:],
		IsReady:        isReady,
		Webhooks:       []rotator.WebhookInfo{{Name: opts.WebhookConfigName, Type: rotator.Mutating}},
		FieldOwner:     FieldOwner,
		ControllerName: fmt.Sprintf("planeless-cert-rotator-%d", n),
	}); err != nil {
		return nil, fmt.Errorf("adding the certificate rotator: %w", err)
	}
	if err := addFileWriter(mgr, secretKey, opts.CertDir, fmt.Sprintf("planeless-cert-files-%d", n)); err != nil {
		return nil, err
	}

	go func() {
		if err := mgr.Start(ctx); err != nil {
			err = fmt.Errorf("certificate management stopped: %w", err)
			if opts.Failed != nil {
				opts.Failed(err)
				return
			}
			klog.ErrorS(err, "serving certificate is no longer kept current")
		}
	}()
	return isReady, nil
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
