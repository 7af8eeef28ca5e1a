package webhook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	admissionv1 "k8s.io/api/admission/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// maxBodyBytes bounds a request body: the API server sends at most 3 MiB
// (its own request limit) and the review's envelope. A pod over
// inject.MaxPodBytes is read and refused with a message; a body over this
// is not read at all.
const maxBodyBytes = 3<<20 + 64<<10

// defaultReviewTimeout is the deadline of a review when the API server
// does not send one (its default timeoutSeconds); maxReviewTimeout is the
// longest it may ask for.
const (
	defaultReviewTimeout = 10 * time.Second
	maxReviewTimeout     = 30 * time.Second
)

// admissionHTTP is the transport: it refuses what is not a well-formed
// AdmissionReview v1 with a 4xx status, holds at most a fixed number of
// reviews at once (a request waits for a slot before its body is read, at
// most until its deadline), and hands the rest to the handler, recovering
// from its panics. The deadline is the one the API server sends
// (?timeout=10s): work stops once it has stopped waiting.
type admissionHTTP struct {
	h       *Handler
	slots   chan struct{}
	metrics *Metrics
	log     *slog.Logger
}

// newAdmissionHTTP serves h; slots is shared by every path of one server
// (make(chan struct{}, max)).
func newAdmissionHTTP(h *Handler, slots chan struct{}) admissionHTTP {
	return admissionHTTP{h: h, slots: slots, metrics: h.Metrics, log: h.Log}
}

func (a admissionHTTP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method must be POST", http.StatusMethodNotAllowed)
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		http.Error(w, fmt.Sprintf("content type %.64q, expected application/json", r.Header.Get("Content-Type")), http.StatusUnsupportedMediaType)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), reviewTimeout(r))
	defer cancel()
	select {
	case a.slots <- struct{}{}:
		defer func() { <-a.slots }()
	case <-ctx.Done():
		a.metrics.observeBusy()
		a.log.Warn("no review slot before the review's deadline", "slots", cap(a.slots))
		http.Error(w, "the webhook is busy: no review slot before the deadline", http.StatusServiceUnavailable)
		return
	}
	a.metrics.inFlight(1)
	defer a.metrics.inFlight(-1)

	review, status, err := readReview(w, r)
	if err != nil {
		http.Error(w, err.Error(), status)
		return
	}

	req := admission.Request{AdmissionRequest: *review.Request}
	rep := a.review(ctx, req)
	if ctx.Err() != nil {
		// The API server has stopped waiting: nobody reads the answer.
		a.log.Warn("review past its deadline", "uid", req.UID, "error", context.Cause(ctx))
		http.Error(w, "the review's deadline passed", http.StatusServiceUnavailable)
		return
	}
	// The answer is encoded whole, then written at once with its length:
	// written as encoded, 60 KB of patch went out as chunks of the
	// server's 4 KB buffer, each its own TLS record and system call.
	body := appendAnswer(getBuffer(len(rep.Patch)*4/3+len(rep.patch64)+1024), review.TypeMeta, rep)
	putBuffer(rep.Patch)
	defer putBuffer(body)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body) // an error means the connection is gone: nobody to tell
}

// review has the handler answer req, an error if it panics, with req's
// UID and a status code as controller-runtime's webhook completes them.
func (a admissionHTTP) review(ctx context.Context, req admission.Request) (r reply) {
	defer func() {
		if p := recover(); p != nil {
			a.metrics.observe(resultError, 0)
			a.log.Error("panic answering a review", "uid", req.UID, "panic", p, "stack", string(debug.Stack()))
			r = reply{Response: admission.Errored(http.StatusInternalServerError, fmt.Errorf("panic: %v [recovered]", p))}
			r.UID = req.UID
		}
	}()
	r = a.h.review(ctx, req)
	_ = r.Complete(req) // sets the UID and a status code; it fails only encoding Patches, which the handler never sets
	return r
}

// reviewTimeout is the deadline the API server sends with a review
// (?timeout=10s, its webhook's timeoutSeconds), bounded.
func reviewTimeout(r *http.Request) time.Duration {
	d, err := time.ParseDuration(r.URL.Query().Get("timeout"))
	if err != nil || d <= 0 {
		return defaultReviewTimeout
	}
	return min(d, maxReviewTimeout)
}

// readReview reads and decodes the request's review; the body is garbage
// once it returns, the review holding a copy of the object.
func readReview(w http.ResponseWriter, r *http.Request) (*admissionv1.AdmissionReview, int, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("request body is too large; limit is %d bytes", maxBodyBytes)
	case err != nil:
		return nil, http.StatusBadRequest, fmt.Errorf("reading request body: %w", err)
	}
	review, err := decodeReview(body)
	if err != nil {
		return nil, http.StatusBadRequest, err
	}
	return review, http.StatusOK, nil
}

// decodeOptions read a review as the API server writes it: member names
// exactly as spelt (encoding/json/v2's default), repeated members allowed
// (the last wins) and invalid UTF-8 read, not refused, as encoding/json
// reads them. encoding/json/v2 reads the pod in request.object once,
// checking its syntax as it goes; encoding/json scans it twice.
var decodeOptions = jsonv2.JoinOptions(jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))

func decodeReview(body []byte) (*admissionv1.AdmissionReview, error) {
	if len(body) == 0 {
		return nil, errors.New("request body is empty")
	}
	var review admissionv1.AdmissionReview
	if err := jsonv2.Unmarshal(body, &review, decodeOptions); err != nil {
		return nil, fmt.Errorf("decoding AdmissionReview: %w", err)
	}
	if gvk := review.GroupVersionKind(); gvk != admissionv1.SchemeGroupVersion.WithKind("AdmissionReview") {
		return nil, fmt.Errorf("got %.64s %.64s, expected admission.k8s.io/v1 AdmissionReview", gvk.GroupVersion(), gvk.Kind)
	}
	if review.Request == nil {
		return nil, errors.New("AdmissionReview has no request")
	}
	if review.Request.UID == "" {
		return nil, errors.New("AdmissionReview request has no uid")
	}
	return &review, nil
}
