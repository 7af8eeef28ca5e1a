package certs

import (
	"errors"
	"testing"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// What the racing replicas of a fresh install log is debug, not error;
// any other error stays an error.
func TestQuietLogsTheReplicasRaceAtDebugLevel(t *testing.T) {
	conflict := apierrors.NewConflict(schema.GroupResource{Resource: "secrets"}, "planeless-tls", errors.New("the object has been modified; please apply your changes to the latest version and try again"))
	tests := map[string]struct {
		err       error
		wantError bool
	}{
		"an update conflict":              {err: conflict},
		"a Secret half-filled by another": {err: errors.New("Cert secret is not well-formed, missing ca.crt")},
		"a Secret created by another":     {err: apierrors.NewAlreadyExists(schema.GroupResource{Resource: "secrets"}, "planeless-tls")},
		"a forbidden write":               {err: apierrors.NewForbidden(schema.GroupResource{Resource: "secrets"}, "planeless-tls", errors.New("no")), wantError: true},
		"anything else":                   {err: errors.New("connection refused"), wantError: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			rec := &recorder{}
			Quiet(logr.New(rec)).WithName("cert-rotation").WithValues("k", "v").Error(tc.err, "could not refresh CA and server certs")
			errs, debug := rec.errors, rec.debug
			if tc.wantError && (errs != 1 || debug != 0) {
				t.Errorf("logged %d errors and %d debug lines, want the error", errs, debug)
			}
			if !tc.wantError && (errs != 0 || debug != 1) {
				t.Errorf("logged %d errors and %d debug lines, want one debug line", errs, debug)
			}
		})
	}
}

// recorder counts error lines and debug (V(1)) lines.
type recorder struct{ errors, debug int }

func (r *recorder) Init(logr.RuntimeInfo)          {}
func (r *recorder) Enabled(int) bool               { return true }
func (r *recorder) WithValues(...any) logr.LogSink { return r }
func (r *recorder) WithName(string) logr.LogSink   { return r }
func (r *recorder) Error(error, string, ...any)    { r.errors++ }
func (r *recorder) Info(level int, _ string, _ ...any) {
	if level >= 1 {
		r.debug++
	}
}
