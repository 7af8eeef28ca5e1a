package inject

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"

	"gomodules.xyz/jsonpatch/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/planeless/planeless/proxy"
)

// DefaultNamespace stands in for a pod's namespace when neither the pod
// nor the caller names one, as kubectl does.
const DefaultNamespace = metav1.NamespaceDefault

// MaxPodBytes bounds the pod the injector reads, as JSON: what a review
// costs grows with the pod (decoding it, encoding it twice, the patch), and
// this bound keeps the worst review under 20 MB allocated (make bench,
// TestWorstCaseReviewIsBounded). Pods are a few KiB; 384 KiB is a pod with
// some 4,000 environment variables.
const MaxPodBytes = 384 << 10

// Pod decodes the pod in raw, injects it and returns raw with exactly the
// injection's changes (see merge): what `planeless inject` prints and what
// the webhook's patch makes of the request's object. namespace stands in
// for the pod's own when that is empty (pods reach admission before their
// namespace is defaulted; manifests often have none), DefaultNamespace when
// it is empty too. A pod left alone comes back nil, with Result.Skipped set.
//
// Work stops with ctx's error at the first step after ctx ends (the API
// server has stopped waiting for the answer).
func (i *Injector) Pod(ctx context.Context, raw []byte, namespace string) ([]byte, Result, error) {
	if len(raw) > MaxPodBytes {
		return nil, Result{}, &proxy.PodError{Reason: fmt.Sprintf(
			"the pod is %d KiB of JSON, more than the %d KiB planeless injects", len(raw)>>10, MaxPodBytes>>10)}
	}
	var pod corev1.Pod
	if err := json.Unmarshal(raw, &pod); err != nil {
		return nil, Result{}, fmt.Errorf("decoding pod: %w", err)
	}
	if reason := SkipReason(&pod); reason != "" {
		return nil, Result{Skipped: reason}, nil
	}
	before, err := json.Marshal(&pod)
	if err != nil {
		return nil, Result{}, fmt.Errorf("encoding pod: %w", err)
	}
	own := pod.Namespace
	pod.Namespace = cmp.Or(own, namespace, DefaultNamespace)
	res, err := i.inject(ctx, &pod)
	if err != nil || res.Skipped != "" {
		return nil, res, err
	}
	pod.Namespace = own
	after, err := json.Marshal(&pod)
	if err != nil {
		return nil, res, fmt.Errorf("encoding injected pod: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, res, err
	}

	out, err := merge(raw, before, after)
	if err != nil {
		return nil, res, fmt.Errorf("merging the injection into the pod: %w", err)
	}
	return out, res, nil
}

// Patch returns the JSON patch that turns raw into what Pod returns for it:
// exactly the injection's changes. A pod left alone gets no patch, with
// Result.Skipped set.
func (i *Injector) Patch(ctx context.Context, raw []byte, namespace string) ([]jsonpatch.JsonPatchOperation, Result, error) {
	injected, res, err := i.Pod(ctx, raw, namespace)
	if err != nil || injected == nil {
		return nil, res, err
	}
	ops, err := jsonpatch.CreatePatch(raw, injected)
	if err != nil {
		return nil, res, fmt.Errorf("computing patch: %w", err)
	}
	return ops, res, nil
}
