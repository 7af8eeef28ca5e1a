package inject

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/planeless/planeless/proxy"
)

// The bootstrap travels in an annotation, and the API server allows
// totalAnnotationBytes for all of a pod's annotations together (keys and
// values, apimachinery's TotalAnnotationSizeLimitB). The bootstrap may take
// what the pod's own annotations leave, up to maxBootstrapBytes, minus
// reservedAnnotationBytes for the other annotations the injector writes.
const (
	totalAnnotationBytes    = 256 << 10
	maxBootstrapBytes       = 192 << 10
	reservedAnnotationBytes = 1 << 10
)

// bootstrapBudget is how many bytes of bootstrap the pod's annotations
// leave room for; negative when they alone are over Kubernetes' limit.
func bootstrapBudget(pod *corev1.Pod) int {
	used := reservedAnnotationBytes + len(proxy.AnnotationBootstrap)
	for k, v := range pod.Annotations {
		used += len(k) + len(v)
	}
	return min(maxBootstrapBytes, totalAnnotationBytes-used)
}

// tooLarge is the refusal of a pod whose bootstrap, size bytes, does not
// fit in the room its annotations leave. The bootstrap's size is bounded
// by what the annotations may say (TestEveryBootstrapFitsTheAnnotation),
// and grows with the intercepted ports by a few dozen bytes each at most,
// so the pod's own annotations are what leaves it no room.
func tooLarge(size, budget int) error {
	if budget <= 0 {
		return &proxy.PodError{Reason: fmt.Sprintf(
			"the pod's annotations take more than the %d KiB Kubernetes allows for all of them, and the proxy's configuration needs room there too",
			totalAnnotationBytes>>10)}
	}
	return &proxy.PodError{Reason: fmt.Sprintf(
		"the proxy's configuration is %d KiB, more than the %d KiB the pod's annotations leave it; shorten the pod's own annotations",
		size>>10, budget>>10)}
}
