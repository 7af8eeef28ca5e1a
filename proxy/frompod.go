package proxy

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// FromPod reads the pod's annotations, labels and containers into a Spec.
// It returns every invalid annotation at once, joined, each as an
// *InvalidAnnotationError; warnings are soft problems the user should see.
func FromPod(pod *corev1.Pod, d Defaults) (*Spec, []string, error) {
	s := &Spec{
		Workload:             workloadOf(pod),
		Egress:               d.Egress,
		IPv6:                 d.IPv6,
		ExcludeOutboundPorts: slices.Clone(d.ExcludeOutboundPorts),
		OpaquePorts:          slices.Clone(d.OpaquePorts),
		Proxy: Sidecar{
			LogLevel:      d.LogLevel,
			Concurrency:   0,
			NativeSidecar: d.NativeSidecar,
			DrainSeconds:  d.DrainSeconds,
			UID:           d.ProxyUID,
			GID:           d.ProxyGID,
			Ports:         d.Ports,
		},
		AccessLog:     AccessLog{Format: d.AccessLogFormat},
		Tracing:       d.Tracing,
		Policy:        Policy{Egress: EgressPolicy{Mode: d.EgressPolicy}},
		ClusterDomain: d.ClusterDomain,
	}
	if s.Policy.Egress.Mode == "" {
		s.Policy.Egress.Mode = EgressOpen
	}
	if s.ClusterDomain == "" {
		s.ClusterDomain = DefaultClusterDomain
	}
	if s.AccessLog.Format == "" {
		s.AccessLog.Format = AccessLogJSON
	}
	if s.Tracing.Provider == "" {
		s.Tracing.Provider = TracingOff
	}

	if err := checkWorkload(s.Workload); err != nil {
		return nil, nil, err
	}
	warnings := unknownAnnotations(pod.Annotations)
	var errs []error
	for _, a := range annotationsByName {
		value, ok := pod.Annotations[a.Name]
		if !ok {
			continue
		}
		if err := a.parse(s, value); err != nil {
			errs = append(errs, &InvalidAnnotationError{Annotation: a.Name, Value: value, Reason: err.Error(), Allowed: a.Allowed})
		}
	}
	if err := checkTracing(s, pod.Annotations); err != nil {
		errs = append(errs, err)
	}
	egressWarnings, err := checkEgress(s, pod.Annotations)
	if err != nil {
		errs = append(errs, err)
	}
	warnings = append(warnings, egressWarnings...)
	if len(errs) > 0 {
		return nil, warnings, errors.Join(errs...)
	}

	if s.Policy.Egress.Mode == EgressAllowList {
		s.Policy.Egress.CIDRs = mergeAllowedCIDRs(s.Policy.Egress.CIDRs, d.EgressAllowedCIDRs)
	} else {
		s.Policy.Egress.Names, s.Policy.Egress.CIDRs = nil, nil
	}

	if _, set := pod.Annotations[Prefix+"ports"]; !set {
		ports, err := portsFromContainers(pod.Spec.Containers)
		if err != nil {
			return nil, warnings, err
		}
		s.Inbound = ports
	}
	// A port nothing declares a protocol for is sniffed, unless it is
	// opaque: the client of a server-first protocol sends nothing.
	for i, p := range s.Inbound {
		if p.Protocol == ProtocolAuto && !p.Declared && InRanges(s.OpaquePorts, p.Number) {
			s.Inbound[i].Protocol = ProtocolTCP
		}
	}
	s.Inbound = slices.DeleteFunc(s.Inbound, func(p Port) bool {
		return slices.Contains(s.ExcludeInboundPorts, p.Number)
	})
	if s.Proxy.Concurrency == 0 {
		s.Proxy.Concurrency = concurrencyFor(s.Proxy.Resources, d.Concurrency)
	}

	if err := checkPod(pod, s); err != nil {
		return nil, warnings, err
	}
	probes, err := tcpProbes(pod, s)
	if err != nil {
		return nil, warnings, err
	}
	s.Probes = probes
	return s, warnings, nil
}

// InjectionDisabled reports whether the pod opted out with
// planeless.dev/inject: "false" (or "disabled"), as an annotation or as a
// label (the label also keeps the pod from reaching the webhook at all).
func InjectionDisabled(pod *corev1.Pod) bool {
	for _, m := range []map[string]string{pod.Annotations, pod.Labels} {
		if v, ok := m[AnnotationInject]; ok {
			if enabled, err := parseBool(v); err == nil && !enabled {
				return true
			}
		}
	}
	return false
}

func workloadOf(pod *corev1.Pod) Workload {
	w := Workload{
		Namespace: pod.Namespace,
		Name:      pod.Name,
		App:       firstLabel(pod.Labels, "app", "app.kubernetes.io/name"),
		Version:   firstLabel(pod.Labels, "version", "app.kubernetes.io/version"),
	}
	if w.Name == "" {
		// A ReplicaSet names its pods <deployment>-<pod-template-hash>-;
		// the workload is the deployment.
		w.Name = strings.TrimSuffix(pod.GenerateName, "-")
		if hash := pod.Labels["pod-template-hash"]; hash != "" {
			w.Name = strings.TrimSuffix(w.Name, "-"+hash)
		}
	}
	if w.App == "" {
		w.App = w.Name
	}
	if w.Version == "" {
		w.Version = "unknown"
	}
	return w
}

func firstLabel(labels map[string]string, keys ...string) string {
	for _, k := range keys {
		if v := labels[k]; v != "" {
			return v
		}
	}
	return ""
}

// portsFromContainers returns the TCP ports the containers declare, at
// most MaxPorts of them (planeless.dev/ports chooses among more).
func portsFromContainers(containers []corev1.Container) ([]Port, error) {
	var set portSet
	names := map[uint16]string{}
	for _, c := range containers {
		for _, cp := range c.Ports {
			if cp.Protocol != "" && cp.Protocol != corev1.ProtocolTCP {
				continue
			}
			if cp.ContainerPort < 1 || cp.ContainerPort > math.MaxUint16 {
				continue
			}
			n := uint16(cp.ContainerPort)
			if set.has(n) {
				continue
			}
			if err := set.addRange(n, n); err != nil {
				return nil, &PodError{Reason: fmt.Sprintf(
					"the containers declare more than %d TCP ports; list the ones the proxy intercepts with %sports", MaxPorts, Prefix)}
			}
			names[n] = cp.Name
		}
	}
	ports := make([]Port, 0, set.count)
	for _, n := range set.sorted() {
		proto := protocolFromName(names[n])
		ports = append(ports, Port{Number: n, Protocol: proto, Declared: proto != ProtocolAuto})
	}
	return ports, nil
}

// protocolFromName follows the Istio and Kubernetes naming convention:
// a port named grpc or grpc-web is gRPC, http, http2 or h2c-api is HTTP,
// tcp-db is TCP. Anything else is sniffed.
func protocolFromName(name string) Protocol {
	prefix, _, _ := strings.Cut(strings.ToLower(name), "-")
	switch prefix {
	case "grpc":
		return ProtocolGRPC
	case "http", "http2", "h2c":
		return ProtocolHTTP
	case "tcp", "mysql", "postgres", "postgresql", "redis", "mongo", "mongodb", "memcached", "amqp", "kafka", "smtp":
		return ProtocolTCP
	}
	return ProtocolAuto
}

// concurrencyFor derives Envoy's worker threads from the CPU limit, rounded
// up, so a proxy never runs more threads than the cores it may use.
func concurrencyFor(r corev1.ResourceRequirements, fallback int) int {
	if limit, ok := r.Limits[corev1.ResourceCPU]; ok {
		return max(1, min(64, int((limit.MilliValue()+999)/1000)))
	}
	return fallback
}

func checkPod(pod *corev1.Pod, s *Spec) error {
	var p problems
	own := s.Proxy.Ports.All()
	for _, list := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range list {
			c := &list[i]
			if uid, ok := runAsUser(pod, c); ok && uid == s.Proxy.UID && p.room() {
				p.add(
					"container %s runs as UID %d, the proxy's UID: its traffic would bypass the proxy; run it as another user or opt the pod out with %s: \"false\"",
					Echo(c.Name), uid, AnnotationInject)
			}
			if gid, ok := runAsGroup(pod, c); ok && gid == s.Proxy.GID && p.room() {
				p.add(
					"container %s runs as group %d, the proxy's group: its traffic would bypass the proxy; run it as another group or opt the pod out with %s: \"false\"",
					Echo(c.Name), gid, AnnotationInject)
			}
			for _, cp := range c.Ports {
				if cp.ContainerPort >= 1 && cp.ContainerPort <= math.MaxUint16 && slices.Contains(own, uint16(cp.ContainerPort)) && p.room() {
					p.add("container %s declares port %d, which the proxy uses itself (proxy ports: %s)",
						Echo(c.Name), cp.ContainerPort, joinPorts(own))
				}
			}
		}
	}
	for _, port := range s.Inbound {
		if slices.Contains(own, port.Number) && p.room() {
			p.add("annotation %sports lists port %d, which the proxy uses itself (proxy ports: %s)",
				Prefix, port.Number, joinPorts(own))
		}
	}
	return p.err()
}

// problems collects PodErrors, at most maxPodProblems of them and a count
// of the rest.
type problems struct {
	errs []error
	more int
}

// room reports whether one more problem is reported, counting it when not:
// a problem past the bound costs no formatting.
func (p *problems) room() bool {
	if len(p.errs) < maxPodProblems {
		return true
	}
	p.more++
	return false
}

func (p *problems) add(format string, args ...any) {
	p.errs = append(p.errs, &PodError{Reason: fmt.Sprintf(format, args...)})
}

func (p *problems) err() error {
	if p.more > 0 {
		p.errs = append(p.errs, &PodError{Reason: fmt.Sprintf("and %d more problems of the kinds above", p.more)})
	}
	return errors.Join(p.errs...)
}

func runAsUser(pod *corev1.Pod, c *corev1.Container) (int64, bool) {
	if c.SecurityContext != nil && c.SecurityContext.RunAsUser != nil {
		return *c.SecurityContext.RunAsUser, true
	}
	if pod.Spec.SecurityContext != nil && pod.Spec.SecurityContext.RunAsUser != nil {
		return *pod.Spec.SecurityContext.RunAsUser, true
	}
	return 0, false
}

func runAsGroup(pod *corev1.Pod, c *corev1.Container) (int64, bool) {
	if c.SecurityContext != nil && c.SecurityContext.RunAsGroup != nil {
		return *c.SecurityContext.RunAsGroup, true
	}
	if pod.Spec.SecurityContext != nil && pod.Spec.SecurityContext.RunAsGroup != nil {
		return *pod.Spec.SecurityContext.RunAsGroup, true
	}
	return 0, false
}

func joinPorts(ports []uint16) string {
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = fmt.Sprint(p)
	}
	return strings.Join(s, ", ")
}

// unknownAnnotations warns of the planeless.dev/ annotations the table
// does not know: the first maxUnknownWarnings by name, one line each with a
// suggestion for a short key, and one line counting the rest.
func unknownAnnotations(annotations map[string]string) []string {
	var first []string
	more := 0
	for key := range annotations {
		if !strings.HasPrefix(key, Prefix) || slices.Contains(outputAnnotations, key) {
			continue
		}
		if _, known := lookupAnnotation(key); known {
			continue
		}
		// Keep the smallest keys, so the warnings do not depend on map order.
		at, _ := slices.BinarySearch(first, key)
		if at == maxUnknownWarnings {
			more++
			continue
		}
		first = slices.Insert(first, at, key)
		if len(first) > maxUnknownWarnings {
			first = first[:maxUnknownWarnings]
			more++
		}
	}
	warnings := make([]string, 0, len(first)+1)
	for _, key := range first {
		warnings = append(warnings, unknownAnnotationWarning(key))
	}
	if more > 0 {
		warnings = append(warnings, fmt.Sprintf("%d more unknown %s annotations are ignored", more, Prefix))
	}
	return warnings
}

func unknownAnnotationWarning(key string) string {
	if len(key) > maxSuggestedKeyLength {
		return fmt.Sprintf("unknown annotation %s is ignored", Echo(key))
	}
	best, bestDist := "", 4
	for _, a := range Annotations {
		if d := distance(key, a.Name); d < bestDist {
			best, bestDist = a.Name, d
		}
	}
	if best != "" {
		return fmt.Sprintf("unknown annotation %s is ignored; did you mean %s?", key, best)
	}
	return fmt.Sprintf("unknown annotation %s is ignored", key)
}

// checkWorkload bounds the identity the proxy reports to what Kubernetes
// itself allows (the API server checks it only after admission).
func checkWorkload(w Workload) error {
	for _, f := range []struct {
		what, value string
		max         int
	}{
		{"namespace", w.Namespace, maxLabelValueLength},
		{"name", w.Name, maxNameLength},
		{"app label", w.App, maxLabelValueLength},
		{"version label", w.Version, maxLabelValueLength},
	} {
		if len(f.value) > f.max {
			return &PodError{Reason: fmt.Sprintf("the pod's %s %s is longer than the %d characters Kubernetes allows", f.what, Echo(f.value), f.max)}
		}
	}
	return nil
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
