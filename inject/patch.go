package inject

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"

	applypatch "github.com/evanphx/json-patch/v5"
	"gomodules.xyz/jsonpatch/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/planeless/planeless/proxy"
)

// DefaultNamespace stands in for a pod's namespace when neither the pod
// nor the caller names one, as kubectl does.
const DefaultNamespace = metav1.NamespaceDefault

// MaxPodBytes bounds the pod the injector reads, as JSON: what a review
// costs grows with the pod (reading it once), and this bound keeps the
// worst injection under 2 MiB allocated (TestWorstCaseReviewIsBounded; the
// webhook's review around it, under 20 MB). Pods are a few KiB; 384 KiB is a pod with
// some 4,000 environment variables.
const MaxPodBytes = 384 << 10

// Pod decodes the pod in raw, injects it and returns raw with exactly the
// injection's changes: Patch's operations applied to raw, what `planeless
// inject` prints and what the API server makes of the webhook's answer.
// namespace stands in for the pod's own when that is empty (pods reach
// admission before their namespace is defaulted; manifests often have
// none), DefaultNamespace when it is empty too. A pod left alone comes back
// nil, with Result.Skipped set.
//
// Work stops with ctx's error at the first step after ctx ends (the API
// server has stopped waiting for the answer).
func (i *Injector) Pod(ctx context.Context, raw []byte, namespace string) ([]byte, Result, error) {
	ops, res, err := i.Patch(ctx, raw, namespace)
	if err != nil || res.Skipped != "" {
		return nil, res, err
	}
	encoded, err := json.Marshal(ops)
	if err != nil {
		return nil, res, fmt.Errorf("encoding the patch: %w", err)
	}
	patch, err := applypatch.DecodePatch(encoded)
	if err != nil {
		return nil, res, fmt.Errorf("decoding the patch: %w", err)
	}
	out, err := patch.Apply(raw)
	if err != nil {
		return nil, res, fmt.Errorf("applying the patch: %w", err)
	}
	return out, res, nil
}

// Patch returns the JSON patch that injects the pod in raw: the operations
// that add what injection adds and change what it changes (ops.go), and
// nothing else. A pod left alone gets no patch, with Result.Skipped set.
func (i *Injector) Patch(ctx context.Context, raw []byte, namespace string) ([]jsonpatch.JsonPatchOperation, Result, error) {
	if len(raw) > MaxPodBytes {
		return nil, Result{}, &proxy.PodError{Reason: fmt.Sprintf(
			"the pod is %d KiB of JSON, more than the %d KiB planeless injects", len(raw)>>10, MaxPodBytes>>10)}
	}
	pod, err := decodePod(raw)
	if err != nil {
		return nil, Result{}, fmt.Errorf("decoding pod: %w", err)
	}
	name := cmp.Or(pod.Name, pod.GenerateName)
	if reason := SkipReason(pod); reason != "" {
		return nil, Result{Skipped: reason, Pod: name}, nil
	}
	top, err := members(raw)
	if err != nil {
		return nil, Result{Pod: name}, fmt.Errorf("decoding pod: %w", err)
	}
	b := snapshot(pod, isObject(top["metadata"]), isObject(top["spec"]))
	own := pod.Namespace
	pod.Namespace = cmp.Or(own, namespace, DefaultNamespace)
	res, st, err := i.inject(ctx, pod)
	res.Pod = name
	if err != nil || res.Skipped != "" {
		return nil, res, err
	}
	pod.Namespace = own
	if err := ctx.Err(); err != nil {
		return nil, res, err
	}
	return ops(b, pod, st), res, nil
}
