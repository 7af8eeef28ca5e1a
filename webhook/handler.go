package webhook

import (
	"cmp"
	"context"
	"encoding/base64"
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

	// answers holds the answers of injected pods by what the injector read
	// of them; nil answers every review afresh.
	answers *answers
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
	r := h.review(ctx, req)
	if r.patch64 != nil {
		r.Patch = make([]byte, base64.StdEncoding.DecodedLen(len(r.patch64)))
		n, err := base64.StdEncoding.Decode(r.Patch, r.patch64)
		if err != nil {
			return admission.Errored(http.StatusInternalServerError, fmt.Errorf("decoding the patch: %w", err))
		}
		r.Patch = r.Patch[:n]
	}
	return r.Response
}

// review is Handle with the patch as the wire carries it: it answers req,
// counts the answer in the metrics and logs it.
func (h *Handler) review(ctx context.Context, req admission.Request) reply {
	start := time.Now()
	r, result, pod := h.handle(ctx, req)
	h.Metrics.observe(result, time.Since(start))

	attrs := []any{
		"uid", req.UID, "namespace", req.Namespace, "name", cut(cmp.Or(req.Name, pod), 256),
		"result", result, "duration", time.Since(start),
	}
	if r.cached {
		attrs = append(attrs, "cached", true)
	}
	if len(r.Warnings) > 0 {
		attrs = append(attrs, "warnings", r.Warnings)
	}
	if r.Result != nil && r.Result.Message != "" {
		attrs = append(attrs, "message", r.Result.Message)
	}
	level := slog.LevelInfo
	if result == resultError {
		level = slog.LevelError
	}
	h.Log.Log(ctx, level, "admission", attrs...)
	return r
}

// handle answers req, saying how (a result of the metrics) and which pod
// it read (its name or generateName; empty when it did not read one).
func (h *Handler) handle(ctx context.Context, req admission.Request) (reply, string, string) {
	if req.Operation != admissionv1.Create || req.Resource.Resource != "pods" || req.SubResource != "" {
		return reply{Response: admission.Allowed("planeless only injects pods being created")}, resultSkipped, ""
	}
	key, cached := h.answers.key(req.Object.Raw, req.Namespace, h.PodSecurityEnforced)
	if cached {
		if a, ok := h.answers.get(key); ok {
			return a.reply(true), resultInjected, a.pod
		}
	}
	ops, res, err := h.Injector.Patch(ctx, req.Object.Raw, req.Namespace)
	switch {
	case err != nil && refused(err):
		resp := admission.Denied(message(err))
		resp.Result.Code = http.StatusBadRequest
		return reply{Response: resp.WithWarnings(warnings(res.Warnings)...)}, resultDenied, res.Pod
	case err != nil:
		return reply{Response: admission.Errored(http.StatusBadRequest, errors.New(message(err)))}, resultError, res.Pod
	case res.Skipped != "":
		return reply{Response: admission.Allowed(res.Skipped).WithWarnings(warnings(res.Warnings)...)}, resultSkipped, res.Pod
	}
	// In CNI mode the pod needs no privilege: nothing to warn about.
	if h.PodSecurityEnforced && !h.Injector.Defaults.CNI {
		res.Warnings = append(res.Warnings, fmt.Sprintf(podSecurityWarning, req.Namespace))
	}
	resp, err := patched("planeless injected the pod", ops)
	if err != nil {
		return reply{Response: admission.Errored(http.StatusInternalServerError, err)}, resultError, res.Pod
	}
	resp = resp.WithWarnings(warnings(res.Warnings)...)
	if !cached {
		return reply{Response: resp}, resultInjected, res.Pod
	}
	// The answer keeps the patch in base64: the pooled buffer of the patch
	// goes back now (otherwise the transport gives it back once written).
	a := newAnswer(resp, res.Pod)
	putBuffer(resp.Patch)
	h.answers.add(key, a)
	return a.reply(false), resultInjected, res.Pod
}

// refused reports whether err is the user's to fix (an annotation or the
// pod itself), rather than a request we could not read.
func refused(err error) bool {
	var invalid *proxy.InvalidAnnotationError
	var pod *proxy.PodError
	return errors.As(err, &invalid) || errors.As(err, &pod)
}
