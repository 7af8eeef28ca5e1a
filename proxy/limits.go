package proxy

// Bounds on what a pod may ask for. Admission sits on the path of every pod
// creation, before the API server has validated anything: each bound is
// checked before the work it bounds, so the cost of a review never grows
// with what a pod author writes.
const (
	// MaxAnnotationBytes bounds the value of one planeless.dev/ annotation.
	// The longest legitimate value, MaxPorts ports or MaxCIDRs IPv6
	// ranges, is under 3 KiB.
	MaxAnnotationBytes = 4 << 10

	// MaxPorts bounds one list of ports (after expanding ranges such as
	// 8000-8010), and the TCP ports a pod's containers may declare when
	// planeless.dev/ports does not choose them.
	MaxPorts = 256

	// MaxCIDRs bounds one list of address ranges.
	MaxCIDRs = 64

	// maxLoggedHeaders bounds the extra access log fields of one direction.
	maxLoggedHeaders = 16

	// maxHeaderNameLength bounds one logged header name.
	maxHeaderNameLength = 64

	// maxUnknownWarnings bounds the warnings about unknown planeless.dev/
	// annotations; one more line counts the rest.
	maxUnknownWarnings = 5

	// maxSuggestedKeyLength bounds the unknown keys a "did you mean" is
	// computed for: longer ones are not typos of a planeless.dev/ name.
	maxSuggestedKeyLength = 64

	// maxPodProblems bounds the problems with the pod's containers reported
	// at once; one more line counts the rest.
	maxPodProblems = 8

	// maxLabelValueLength and maxNameLength are Kubernetes' own bounds on
	// the identity the proxy reports (label values, namespace, pod name);
	// the API server enforces them only after admission.
	maxLabelValueLength = 63
	maxNameLength       = 253
)
