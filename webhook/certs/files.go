package certs

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// addFileWriter copies tls.crt and tls.key from the Secret into dir each
// time they change, so every replica serves the current certificate without
// waiting for the kubelet to refresh a Secret volume.
func addFileWriter(mgr manager.Manager, key types.NamespacedName, dir, name string) error {
	reader := mgr.GetCache()
	err := builder.ControllerManagedBy(mgr).
		Named(name).
		For(&corev1.Secret{}).
		WithOptions(controller.Options{SkipNameValidation: ptr.To(true)}).
		Complete(reconcile.Func(func(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
			if req.NamespacedName != key {
				return reconcile.Result{}, nil
			}
			secret := &corev1.Secret{}
			if err := reader.Get(ctx, key, secret); err != nil {
				return reconcile.Result{}, client.IgnoreNotFound(err)
			}
			return reconcile.Result{}, writePair(dir, secret.Data[CertFile], secret.Data[KeyFile])
		}))
	if err != nil {
		return fmt.Errorf("adding the certificate file writer: %w", err)
	}
	return nil
}

// writePair writes the key, then the certificate, each atomically and only
// if it changed. An empty pair (a Secret the rotator has not filled yet) is
// skipped: the next update of the Secret brings the pair.
func writePair(dir string, cert, key []byte) error {
	if len(cert) == 0 || len(key) == 0 {
		return nil
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{KeyFile, key}, {CertFile, cert}} {
		if err := writeIfChanged(filepath.Join(dir, f.name), f.data); err != nil {
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
