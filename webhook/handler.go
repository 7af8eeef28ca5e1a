package webhook

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/planeless/planeless/inject"
	"github.com/planeless/planeless/proxy"
)

// Handler decides what to do with one admission request.
type Handler struct {
	Injector *inject.Injector
	Log      *slog.Logger
	Metrics  *Metrics
	// PodSecurityEnforced says the pods come from namespaces whose Pod
	// Security enforces baseline or restricted: in init mode an injected
	// pod gets a warning that the API server will refuse it.
	PodSecurityEnforced bool
}

// podSecurityWarning explains why a pod injected in init mode in a
// namespace enforcing Pod Security baseline or restricted is refused right
// after, and names CNI mode, where it would not be.
const podSecurityWarning = "namespace %s enforces Pod Security baseline or restricted (label pod-security.kubernetes.io/enforce), " +
	"which refuses the NET_ADMIN and NET_RAW capabilities " + inject.InitName + " needs to install the pod's iptables rules: " +
	"the API server refuses this pod. Install planeless in CNI mode (chart value cni.enabled=true: a node agent installs the rules, " +
	"and injected pods pass restricted), label the namespace pod-security.kubernetes.io/enforce=privileged, " +
	"or opt the pod out with " + proxy.AnnotationInject + ": \"false\""

var _ admission.Handler = (*Handler)(nil)

// Handle injects pods being created and allows everything else unchanged.
func (h *Handler) Handle(ctx context.Context, req admission.Request) admission.Response {
	start := time.Now()
	resp, result, pod := h.handle(ctx, req)
	h.Metrics.observe(result, time.Since(start))

	attrs := []any{
		"uid", req.UID, "namespace", req.Namespace, "name", cut(cmp.Or(req.Name, pod), 256),
		"result", result, "duration", time.Since(start),
	}
	if len(resp.Warnings) > 0 {
		attrs = append(attrs, "warnings", resp.Warnings)
	}
	if resp.Result != nil && resp.Result.Message != "" {
		attrs = append(attrs, "message", resp.Result.Message)
	}
	level := slog.LevelInfo
	if result == resultError {
		level = slog.LevelError
	}
	h.Log.Log(ctx, level, "admission", attrs...)
	return resp
}

// handle answers req, saying how (a result of the metrics) and which pod
// it read (its name or generateName; empty when it did not read one).
func (h *Handler) handle(ctx context.Context, req admission.Request) (admission.Response, string, string) {
	if req.Operation != admissionv1.Create || req.Resource.Resource != "pods" || req.SubResource != "" {
		return admission.Allowed("planeless only injects pods being created"), resultSkipped, ""
	}
	ops, res, err := h.Injector.Patch(ctx, req.Object.Raw, req.Namespace)
	switch {
	case err != nil && refused(err):
		resp := admission.Denied(message(err))
		resp.Result.Code = http.StatusBadRequest
		return resp.WithWarnings(warnings(res.Warnings)...), resultDenied, res.Pod
	case err != nil:
		return admission.Errored(http.StatusBadRequest, errors.New(message(err))), resultError, res.Pod
	case res.Skipped != "":
		return admission.Allowed(res.Skipped).WithWarnings(warnings(res.Warnings)...), resultSkipped, res.Pod
	}
	// In CNI mode the pod needs no privilege: nothing to warn about.
	if h.PodSecurityEnforced && !h.Injector.Defaults.CNI {
		res.Warnings = append(res.Warnings, fmt.Sprintf(podSecurityWarning, req.Namespace))
	}
	resp, err := patched("planeless injected the pod", ops, h.Injector.Bootstraps.Quoted)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err), resultError, res.Pod
	}
	return resp.WithWarnings(warnings(res.Warnings)...), resultInjected, res.Pod
}

// refused reports whether err is the user's to fix (an annotation or the
// pod itself), rather than a request we could not read.
func refused(err error) bool {
	var invalid *proxy.InvalidAnnotationError
	var pod *proxy.PodError
	return errors.As(err, &invalid) || errors.As(err, &pod)
}
