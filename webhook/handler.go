package webhook

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
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
}

var _ admission.Handler = (*Handler)(nil)

// Handle injects pods being created and allows everything else unchanged.
func (h *Handler) Handle(ctx context.Context, req admission.Request) admission.Response {
	start := time.Now()
	resp, result := h.handle(req)
	h.Metrics.observe(result, time.Since(start))

	attrs := []any{
		"uid", req.UID, "namespace", req.Namespace, "name", podName(req),
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

func (h *Handler) handle(req admission.Request) (admission.Response, string) {
	if req.Operation != admissionv1.Create || req.Resource.Resource != "pods" || req.SubResource != "" {
		return admission.Allowed("planeless only injects pods being created"), resultSkipped
	}
	ops, res, err := h.Injector.Patch(context.TODO(), req.Object.Raw, req.Namespace)
	switch {
	case err != nil && refused(err):
		resp := admission.Denied(strings.ReplaceAll(err.Error(), "\n", "; "))
		resp.Result.Code = http.StatusBadRequest
		resp.Warnings = res.Warnings
		return resp, resultDenied
	case err != nil:
		return admission.Errored(http.StatusBadRequest, err), resultError
	case res.Skipped != "":
		resp := admission.Allowed(res.Skipped)
		resp.Warnings = res.Warnings
		return resp, resultSkipped
	}
	resp := admission.Patched("planeless injected the pod", ops...)
	resp.Warnings = res.Warnings
	return resp, resultInjected
}

// refused reports whether err is the user's to fix (an annotation or the
// pod itself), rather than a request we could not read.
func refused(err error) bool {
	var invalid *proxy.InvalidAnnotationError
	var pod *proxy.PodError
	return errors.As(err, &invalid) || errors.As(err, &pod)
}

func podName(req admission.Request) string {
	if req.Name != "" {
		return req.Name
	}
	var meta struct {
		Metadata struct {
			GenerateName string `json:"generateName"`
		} `json:"metadata"`
	}
	_ = jsonUnmarshal(req.Object.Raw, &meta)
	return meta.Metadata.GenerateName
}
