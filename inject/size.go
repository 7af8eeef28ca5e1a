package inject

import (
	"fmt"
	"slices"

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

// estimateBootstrap is a lower bound of the size of the bootstrap
// bootstrap.Render writes for s, from the Spec alone: what decides the size
// is known before rendering (ports and their protocols, logged headers, the
// workload's names, tracing), so a pod whose bootstrap cannot fit is
// refused without rendering it. The constants are bytes measured on the
// renderer (TestEstimateIsALowerBoundCloseToTheRenderedSize keeps them
// within 20% below the real size; recalibrate them when it fails).
func estimateBootstrap(s *proxy.Spec) int {
	est := 2900 // admin, the stats and inbound listeners
	l7 := 0
	for _, p := range s.Inbound {
		if s.IPv6 {
			est += 160 // the IPv6 source address of the port's clusters
		}
		switch p.Protocol {
		case proxy.ProtocolTCP:
			est += 620
			continue
		case proxy.ProtocolAuto:
			est += 4290
		case proxy.ProtocolHTTP:
			est += 3620
		default:
			est += 2950
		}
		l7++
	}
	// Every HTTP connection manager (one per L7 port, one outbound)
	// repeats the access log format, the workload's names and tracing.
	hcms := l7
	if s.Egress {
		est += 8200 + 45*len(s.OpaquePorts) // the outbound listener, its clusters, the bounded names
		hcms++
		if s.IPv6 {
			est += 5000 // the connection manager of IPv6 destinations
			hcms++
		}
	}
	if s.AccessLog.Format != proxy.AccessLogOff {
		est += 800 * hcms
		for _, h := range slices.Concat(s.AccessLog.RequestHeaders, s.AccessLog.ResponseHeaders) {
			est += (13 + 2*len(h)) * hcms
		}
	}
	// The workload's names: in stats tags, a header of every HTTP
	// connection manager, and its access log format.
	perHCM := 3
	if s.AccessLog.Format != proxy.AccessLogOff {
		perHCM = 5
	}
	w := s.Workload
	est += len(w.Name) + len(w.Namespace)*(3+perHCM*hcms) + len(w.App)*(2+perHCM*hcms) + len(w.Version)*(1+perHCM/2*hcms)
	switch s.Tracing.Provider {
	case proxy.TracingZipkin:
		est += 480 + 417*hcms
	case proxy.TracingOTLP:
		est += 480 + 274*hcms
	}
	return est
}

// tooLarge is the refusal of a pod whose bootstrap does not fit in the room
// its annotations leave; size is the bootstrap's size or, before rendering,
// its lower bound.
func tooLarge(s *proxy.Spec, size, budget int, estimated bool) error {
	if budget <= 0 {
		return &proxy.PodError{Reason: fmt.Sprintf(
			"the pod's annotations take more than the %d KiB Kubernetes allows for all of them, and the proxy's configuration needs room there too",
			totalAnnotationBytes>>10)}
	}
	atLeast := ""
	if estimated {
		atLeast = "at least "
	}
	return &proxy.PodError{Reason: fmt.Sprintf(
		"the proxy's configuration for %d intercepted ports is %s%d KiB, more than the %d KiB the pod's annotations leave it; intercept fewer ports with %sports or %sexclude-inbound-ports",
		len(s.Inbound), atLeast, size>>10, budget>>10, proxy.Prefix, proxy.Prefix)}
}
