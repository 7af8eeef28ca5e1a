package certs

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// keeper holds the serving certificate of the Secret in memory, for the
// TLS server to serve without waiting for files, and follows it when it
// changes. It also writes tls.crt and tls.key into the certificate folder
// when that folder is writable (a webhook run outside a pod); in the chart
// the folder is the Secret itself, mounted read-only, which the kubelet
// keeps current. It is ready once it holds a valid pair and the caBundle
// of the webhook configuration (if there is one yet) is the Secret's CA.
type keeper struct {
	secret   types.NamespacedName
	config   string
	dir      string
	cert     atomic.Pointer[tls.Certificate]
	ready    chan struct{}
	once     sync.Once
	readOnly atomic.Bool
}

func newKeeper(o Options) *keeper {
	return &keeper{
		secret: types.NamespacedName{Namespace: o.Namespace, Name: o.SecretName},
		config: o.WebhookConfigName,
		dir:    o.CertDir,
		ready:  make(chan struct{}),
	}
}

// GetCertificate serves the current certificate (tls.Config).
func (k *keeper) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	if c := k.cert.Load(); c != nil {
		return c, nil
	}
	return nil, errors.New("no serving certificate yet")
}

// add registers the keeper with the manager: it reconciles when the Secret
// or the webhook configuration changes.
func (k *keeper) add(mgr manager.Manager, name string) error {
	reader := mgr.GetCache()
	toSecret := handler.EnqueueRequestsFromMapFunc(func(context.Context, client.Object) []reconcile.Request {
		return []reconcile.Request{{NamespacedName: k.secret}}
	})
	err := builder.ControllerManagedBy(mgr).
		Named(name).
		For(&corev1.Secret{}).
		Watches(&admissionregistrationv1.MutatingWebhookConfiguration{}, toSecret).
		WithOptions(controller.Options{SkipNameValidation: ptr.To(true)}).
		Complete(reconcile.Func(func(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
			if req.NamespacedName != k.secret {
				return reconcile.Result{}, nil
			}
			return reconcile.Result{}, k.reconcile(ctx, reader)
		}))
	if err != nil {
		return fmt.Errorf("adding the certificate keeper: %w", err)
	}
	return nil
}

func (k *keeper) reconcile(ctx context.Context, reader client.Reader) error {
	secret := &corev1.Secret{}
	if err := reader.Get(ctx, k.secret, secret); err != nil {
		return client.IgnoreNotFound(err)
	}
	certPEM, keyPEM, caPEM := secret.Data[CertFile], secret.Data[KeyFile], secret.Data["ca.crt"]
	if len(certPEM) == 0 || len(keyPEM) == 0 {
		return nil // the rotator has not filled the Secret yet; its update brings the pair
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil // half-written by another replica: the next update completes it
	}
	k.cert.Store(&pair)
	if err := k.writeFiles(certPEM, keyPEM); err != nil {
		return err
	}
	config := &admissionregistrationv1.MutatingWebhookConfiguration{}
	switch err := reader.Get(ctx, types.NamespacedName{Name: k.config}, config); {
	case apierrors.IsNotFound(err):
	case err != nil:
		return err
	default:
		for _, w := range config.Webhooks {
			if !bytes.Equal(w.ClientConfig.CABundle, caPEM) {
				return nil // the rotator brings it; its update triggers us again
			}
		}
	}
	k.once.Do(func() { close(k.ready) })
	return nil
}

// writeFiles writes the pair into the certificate folder, key first, each
// atomically and only if it changed. A read-only folder is the Secret
// mounted by the kubelet, which writes the files itself.
func (k *keeper) writeFiles(cert, key []byte) error {
	if k.readOnly.Load() {
		return nil
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{KeyFile, key}, {CertFile, cert}} {
		err := writeIfChanged(filepath.Join(k.dir, f.name), f.data)
		if errors.Is(err, syscall.EROFS) || errors.Is(err, os.ErrPermission) {
			k.readOnly.Store(true)
			klog.V(1).InfoS("the certificate folder is read-only: serving from memory, the kubelet writes the files", "dir", k.dir)
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func writeIfChanged(path string, data []byte) error {
	old, err := os.ReadFile(path)
	if err == nil && bytes.Equal(old, data) {
		return nil
	}
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
