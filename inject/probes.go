package inject

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/planeless/planeless/proxy"
)

// RewrittenProbe records one kubelet probe the injector changed, with what
// it was, so that a reader (and `planeless uninject`) can tell and restore
// the original.
type RewrittenProbe struct {
	Container string `json:"container"`
	// Probe is liveness, readiness or startup.
	Probe string `json:"probe"`
	// Port is the probe's original tcpSocket port, a number or a name.
	Port intstr.IntOrString `json:"port"`
}

// probeKinds are the kinds of probe a container has, in the order the
// injector visits them (rewriting) and the patch names them.
var probeKinds = []string{"liveness", "readiness", "startup"}

func probeOfKind(c *corev1.Container, kind string) *corev1.Probe {
	switch kind {
	case "liveness":
		return c.LivenessProbe
	case "readiness":
		return c.ReadinessProbe
	}
	return c.StartupProbe
}

// rewriteProbes points every TCP probe of an intercepted port at its probe
// port (proxy.TCPProbe), so that it still fails when the application does
// not accept connections. It returns what it changed, and warnings for the
// probes whose meaning planeless cannot keep.
func rewriteProbes(pod *corev1.Pod, s *proxy.Spec) ([]RewrittenProbe, []string) {
	var rewritten []RewrittenProbe
	var warnings []string
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		for _, kind := range probeKinds {
			probe := probeOfKind(c, kind)
			if probe == nil {
				continue
			}
			if tp, ok := s.ProbeOf(c, probe.TCPSocket); ok {
				rewritten = append(rewritten, RewrittenProbe{Container: c.Name, Probe: kind, Port: probe.TCPSocket.Port})
				probe.TCPSocket.Port = intstr.FromInt32(int32(tp.ProbePort))
			}
			if w := unfaithfulProbe(c, kind, probe, s); w != "" {
				warnings = append(warnings, w)
			}
		}
	}
	return rewritten, warnings
}

// unfaithfulProbe says why a probe would not mean through the proxy what
// it means without it, or "".
func unfaithfulProbe(c *corev1.Container, kind string, probe *corev1.Probe, s *proxy.Spec) string {
	h := probe.HTTPGet
	if h == nil || h.Host != "" || h.Scheme != corev1.URISchemeHTTPS {
		return ""
	}
	n, ok := proxy.ResolvePort(c, h.Port)
	if !ok {
		return ""
	}
	if p, intercepted := s.Lookup(n); intercepted && (p.Protocol == proxy.ProtocolHTTP || p.Protocol == proxy.ProtocolGRPC) {
		return fmt.Sprintf("the %s probe of container %q speaks HTTPS to port %d, which is declared %s: the proxy will answer it with an error; declare the port tcp or auto in %sports, or exclude it with %sexclude-inbound-ports",
			kind, c.Name, n, p.Protocol, proxy.Prefix, proxy.Prefix)
	}
	return ""
}
