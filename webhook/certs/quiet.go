package certs

import (
	"strings"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// Quiet returns l logging at debug level (V(1)) the errors certificate
// management retries by itself: replicas racing to fill the one Secret and
// update the one webhook configuration get update conflicts, and read the
// Secret half-filled by another ("missing ca.crt"), for the second or two
// the race lasts. Every other error stays an error.
func Quiet(l logr.Logger) logr.Logger {
	return logr.New(quietSink{l.GetSink()}).V(l.GetV())
}

type quietSink struct{ logr.LogSink }

func (q quietSink) Error(err error, msg string, keysAndValues ...any) {
	if !transient(err) {
		q.LogSink.Error(err, msg, keysAndValues...)
		return
	}
	if q.LogSink.Enabled(1) {
		q.LogSink.Info(1, msg, append(keysAndValues, "error", err, "retried", true)...)
	}
}

func (q quietSink) WithValues(keysAndValues ...any) logr.LogSink {
	return quietSink{q.LogSink.WithValues(keysAndValues...)}
}

func (q quietSink) WithName(name string) logr.LogSink { return quietSink{q.LogSink.WithName(name)} }

// transient reports whether err is one of the racing replicas' errors.
func transient(err error) bool {
	return err != nil && (apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) ||
		strings.Contains(err.Error(), "secret is not well-formed"))
}
