package proxy

import (
	"net/netip"
	"strconv"
	"time"
)

// Policy is the pod's traffic policy: what its own annotations ask of its
// outbound requests (planeless.dev/routes, planeless.dev/egress-policy,
// planeless.dev/egress-allow) and of every route (planeless.dev/timeout).
// A request goes either to the address the application dialled or to a
// destination named here, resolved by Envoy; never to an address taken
// from a header alone.
type Policy struct {
	// Timeout bounds every request, inbound and outbound, unless a
	// destination sets its own; 0 is no timeout.
	Timeout time.Duration
	// Destinations are the Services planeless.dev/routes names, sorted by
	// namespace, name and port.
	Destinations []Destination
	// Egress says where outbound connections may go.
	Egress EgressPolicy
}

// Service is a Kubernetes Service and one of its ports. Its DNS names are
// <name>.<namespace>.svc.<cluster domain> and the shorter forms a pod of the
// same namespace uses.
type Service struct {
	Name      string
	Namespace string
	Port      uint16
}

// DefaultServicePort is the port of a Service named without one: HTTP's,
// as in a URL.
const DefaultServicePort = 80

// FQDN is the name Envoy resolves: <name>.<namespace>.svc.<domain>,
// without a trailing dot so that /etc/hosts and hostAliases apply, as they
// do to the application.
func (s Service) FQDN(clusterDomain string) string {
	return s.Name + "." + s.Namespace + ".svc." + clusterDomain
}

// Hosts returns every Host (or :authority) an application in podNamespace
// may send to reach the Service: the short name (same namespace only),
// name.namespace, name.namespace.svc and the FQDN, each with the port, and
// without it when the port is 80.
func (s Service) Hosts(clusterDomain, podNamespace string) []string {
	names := []string{s.Name + "." + s.Namespace, s.Name + "." + s.Namespace + ".svc", s.FQDN(clusterDomain)}
	if s.Namespace == podNamespace {
		names = append([]string{s.Name}, names...)
	}
	port := ":" + strconv.Itoa(int(s.Port))
	var hosts []string
	for _, n := range names {
		if s.Port == DefaultServicePort {
			hosts = append(hosts, n)
		}
		hosts = append(hosts, n+port)
	}
	return hosts
}

func (s Service) String() string {
	return s.Name + "." + s.Namespace + ":" + strconv.Itoa(int(s.Port))
}

// Destination is one entry of planeless.dev/routes: the requests whose
// Host names Service, and what happens to them.
type Destination struct {
	// Key is the annotation's key, for messages.
	Key     string
	Service Service
	// Timeout bounds each request (all its tries); 0 falls back to
	// Policy.Timeout.
	Timeout time.Duration
	// Retries is nil when requests are not retried.
	Retries *Retries
	// Rules are tried in order; the last one matches every request (the
	// annotation's default rule, or one sending everything to Service).
	Rules []Rule
	// Fault is nil when no fault is injected.
	Fault *Fault
}

// Retries says when and how often a failed request is sent again.
type Retries struct {
	// Attempts is the number of retries after the first try (Istio's
	// attempts).
	Attempts int
	// PerTryTimeout bounds each try; 0 is none.
	PerTryTimeout time.Duration
	// On are Envoy retry conditions (5xx, reset, connect-failure, ...).
	On []string
	// Statuses are response codes that are retried too.
	Statuses []uint32
}

// DefaultRetryOn is what is retried when retries give no `on`: 5xx
// answers, resets and timeouts (so perTryTimeout retries), and failed
// connections. It re-sends requests the server may have acted on (a POST
// that failed with a 500): list the conditions to be stricter.
var DefaultRetryOn = []string{"5xx", "reset", "connect-failure"}

// RetryConditions are the values retries.on accepts besides status codes:
// Envoy's retry_on conditions for HTTP and gRPC.
var RetryConditions = []string{
	"5xx", "gateway-error", "reset", "reset-before-request", "connect-failure", "refused-stream",
	"retriable-4xx", "envoy-ratelimited",
	"cancelled", "deadline-exceeded", "internal", "resource-exhausted", "unavailable",
}

// Rule sends the requests it matches to its targets.
type Rule struct {
	// Headers must all be present with exactly these values; none matches
	// every request.
	Headers []HeaderMatch
	// Targets share the requests by weight (percent, adding up to 100).
	Targets []Target
}

// HeaderMatch is a request header and the exact value it must have.
type HeaderMatch struct {
	Name  string
	Value string
}

// Target is a Service receiving a share of a rule's requests.
type Target struct {
	Service Service
	// Weight is the percentage of the rule's requests, 0 to 100.
	Weight uint32
}

// Fault injects failures into a destination's requests, to test how the
// application copes.
type Fault struct {
	Abort *Abort
	Delay *Delay
}

// Abort answers a share of the requests with Status instead of sending
// them.
type Abort struct {
	Status  uint32
	Percent float64
}

// Delay holds a share of the requests for Fixed before sending them.
type Delay struct {
	Fixed   time.Duration
	Percent float64
}

// EgressMode is what the pod may reach outside the names and ranges it
// allows.
type EgressMode string

const (
	// EgressOpen lets outbound connections go wherever the application
	// dials.
	EgressOpen EgressMode = "open"
	// EgressAllowList refuses outbound connections to anything not allowed
	// (planeless.dev/egress-allow, the cluster's Services, the operator's
	// ranges).
	EgressAllowList EgressMode = "allow-list"
)

// EgressModes lists every EgressMode in documentation order.
var EgressModes = []EgressMode{EgressOpen, EgressAllowList}

// EgressPolicy says where outbound connections may go.
type EgressPolicy struct {
	Mode EgressMode
	// Names are the host names HTTP (by Host) and TLS (by server name) may
	// reach, resolved by Envoy.
	Names []AllowedName
	// CIDRs are the address ranges any TCP may reach, at the address the
	// application dialled: the pod's own entries and the operator's ranges.
	CIDRs []AllowedCIDR
}

// AllowedName is a host name, or every name under a domain, optionally on
// one port only.
type AllowedName struct {
	// Name is lower case; for a wildcard, the domain after "*.".
	Name string
	// Wildcard allows every name ending in "."+Name (not Name itself).
	Wildcard bool
	// Port is the only port allowed, 0 for any.
	Port uint16
}

func (n AllowedName) String() string {
	s := n.Name
	if n.Wildcard {
		s = "*." + s
	}
	if n.Port != 0 {
		s += ":" + strconv.Itoa(int(n.Port))
	}
	return s
}

// AllowedCIDR is an address range, optionally on one port only.
type AllowedCIDR struct {
	Prefix netip.Prefix
	// Port is the only port allowed, 0 for any.
	Port uint16
}

func (c AllowedCIDR) String() string {
	if c.Port == 0 {
		return c.Prefix.String()
	}
	if c.Prefix.Addr().Is6() {
		return "[" + c.Prefix.String() + "]:" + strconv.Itoa(int(c.Port))
	}
	return c.Prefix.String() + ":" + strconv.Itoa(int(c.Port))
}

// DefaultClusterDomain is Kubernetes' default cluster domain.
const DefaultClusterDomain = "cluster.local"
