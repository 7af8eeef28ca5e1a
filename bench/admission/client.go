package admission

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/planeless/planeless/bench/load"
	"github.com/planeless/planeless/bench/workload"
)

// Client sends AdmissionReview v1 requests for one pod and checks each
// answer: planeless must allow with a JSON patch, the baseline must allow
// with its own message. Every request has its own UID, which the answer
// must echo.
type Client struct {
	http *http.Client
	// before and after are the encoded review around its UID: a request
	// is the three put together, so that encoding the review (the
	// generator's work, which the API server does once for every
	// webhook) costs a copy, not a pass over the pod.
	before, after []byte
	seq           atomic.Int64
}

// uidMark stands for the UID in the encoded review.
const uidMark = "planeless-bench-uid"

// NewClient trusts cert and reviews pod (its raw JSON) on every request.
func NewClient(cert *Cert, pod []byte, concurrency int) *Client {
	review := workload.Review(uidMark, workload.Namespace, pod)
	before, after, _ := bytes.Cut(review, []byte(`"`+uidMark+`"`)) // the UID comes before the pod
	return &Client{
		before: append(before, '"'),
		after:  append([]byte{'"'}, after...),
		http: &http.Client{
			Timeout: 30 * time.Second,
			Transport: &http.Transport{
				TLSClientConfig:     &tls.Config{RootCAs: cert.Pool, MinVersion: tls.VersionTLS12},
				ForceAttemptHTTP2:   true,
				MaxIdleConns:        concurrency + 8,
				MaxIdleConnsPerHost: concurrency + 8,
				IdleConnTimeout:     time.Minute,
			},
		},
	}
}

// Close drops the client's connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// Review sends one review to s and checks its answer.
func (c *Client) Review(ctx context.Context, s *Server) error {
	uid := types.UID("bench-" + strconv.FormatInt(c.seq.Add(1), 10))
	body := make([]byte, 0, len(c.before)+len(uid)+len(c.after))
	body = append(append(append(body, c.before...), uid...), c.after...)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("building request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("reading answer: %w", err)
	}
	// What the webhook took ends here; decoding and checking its answer
	// is the generator's work.
	load.Answered(ctx)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d: %s", resp.StatusCode, out)
	}
	var answer admissionv1.AdmissionReview
	if err := json.Unmarshal(out, &answer); err != nil {
		return fmt.Errorf("decoding answer: %w", err)
	}
	return check(s, uid, answer.Response)
}

func check(s *Server, uid types.UID, r *admissionv1.AdmissionResponse) error {
	switch {
	case r == nil:
		return fmt.Errorf("answer has no response")
	case r.UID != uid:
		return fmt.Errorf("answer is for uid %q, sent %q", r.UID, uid)
	case !r.Allowed:
		return fmt.Errorf("not allowed: %v", r.Result)
	}
	if s.MetricsURL == "" { // the baseline
		if r.Result == nil || r.Result.Message != BaselineMessage || len(r.Patch) != 0 {
			return fmt.Errorf("baseline answered %v with a %d-byte patch", r.Result, len(r.Patch))
		}
		return nil
	}
	if r.PatchType == nil || *r.PatchType != admissionv1.PatchTypeJSONPatch || len(r.Patch) == 0 {
		return fmt.Errorf("allowed without a JSON patch (%v)", r.Result)
	}
	var ops []map[string]any
	if err := json.Unmarshal(r.Patch, &ops); err != nil || len(ops) == 0 {
		return fmt.Errorf("patch is not a JSON patch: %v", err)
	}
	return nil
}
