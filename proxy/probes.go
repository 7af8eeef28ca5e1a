package proxy

import (
	"fmt"
	"math"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// A kubelet TCP probe of an intercepted port would always pass: Envoy
// accepts the connection whether or not the application does. So the
// injector points each such probe at a probe port, which the rules lead
// straight to the application's port, past the proxy: the probe fails when
// the application does not accept connections, exactly as without a
// sidecar. HTTP and gRPC probes need nothing: they go through Envoy to the
// application, and Envoy answers 503 when it cannot reach it.
const (
	// FirstProbePort is the first of the ports TCP probes are rewritten
	// to; the n-th probed application port gets FirstProbePort+n.
	FirstProbePort = 15100
	// MaxProbePorts bounds them (15100 to 15199).
	MaxProbePorts = 100
)

// TCPProbe is an intercepted application port that a kubelet TCP probe
// checks.
type TCPProbe struct {
	// Target is the application's port the probe checks.
	Target uint16
	// ProbePort is the port the probe is rewritten to.
	ProbePort uint16
}

// ProbeOf returns the TCPProbe of the application port a TCP probe handler
// checks, if the probe needs rewriting. port is the probe's port (a number
// or one of the container's port names).
func (s *Spec) ProbeOf(c *corev1.Container, h *corev1.TCPSocketAction) (TCPProbe, bool) {
	if h == nil || h.Host != "" {
		return TCPProbe{}, false
	}
	target, ok := ResolvePort(c, h.Port)
	if !ok {
		return TCPProbe{}, false
	}
	for _, p := range s.Probes {
		if p.Target == target {
			return p, true
		}
	}
	return TCPProbe{}, false
}

// tcpProbes returns the intercepted ports the TCP probes of the pod's
// containers check, each with its probe port, sorted by target.
func tcpProbes(pod *corev1.Pod, s *Spec) ([]TCPProbe, error) {
	var targets []uint16
	for _, c := range pod.Spec.Containers {
		for _, probe := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
			if probe == nil || probe.TCPSocket == nil || probe.TCPSocket.Host != "" {
				continue
			}
			target, ok := ResolvePort(&c, probe.TCPSocket.Port)
			if !ok {
				continue
			}
			if _, intercepted := s.Lookup(target); intercepted && !slices.Contains(targets, target) {
				targets = append(targets, target)
			}
		}
	}
	slices.Sort(targets)
	if len(targets) > MaxProbePorts {
		return nil, &PodError{Reason: fmt.Sprintf("TCP probes check %d intercepted ports, more than the %d planeless can keep faithful", len(targets), MaxProbePorts)}
	}
	probes := make([]TCPProbe, len(targets))
	for i, target := range targets {
		probes[i] = TCPProbe{Target: target, ProbePort: uint16(FirstProbePort + i)}
	}
	for _, c := range slices.Concat(pod.Spec.InitContainers, pod.Spec.Containers) {
		for _, cp := range c.Ports {
			for _, p := range probes {
				if cp.ContainerPort == int32(p.ProbePort) {
					return nil, &PodError{Reason: fmt.Sprintf(
						"container %q declares port %d, which planeless needs for the TCP probe of port %d (probe ports start at %d)",
						c.Name, cp.ContainerPort, p.Target, FirstProbePort)}
				}
			}
		}
	}
	return probes, nil
}

// ResolvePort returns the number of a probe's port: a number, or the name
// of one of the container's ports.
func ResolvePort(c *corev1.Container, port intstr.IntOrString) (uint16, bool) {
	if port.Type == intstr.String {
		for _, cp := range c.Ports {
			if cp.Name == port.StrVal {
				return portNumber(cp.ContainerPort)
			}
		}
		return 0, false
	}
	return portNumber(port.IntVal)
}

func portNumber(n int32) (uint16, bool) {
	if n < 1 || n > math.MaxUint16 {
		return 0, false
	}
	return uint16(n), true
}
