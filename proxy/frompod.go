package proxy

import (
	"errors"
	"fmt"
	"maps"
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

	var errs []error
	var warnings []string
	for _, key := range slices.Sorted(maps.Keys(pod.Annotations)) {
		if !strings.HasPrefix(key, Prefix) || slices.Contains(outputAnnotations, key) {
			continue
		}
		a, ok := lookupAnnotation(key)
		if !ok {
			warnings = append(warnings, unknownAnnotationWarning(key))
			continue
		}
		value := pod.Annotations[key]
		if err := a.apply(s, value); err != nil {
			errs = append(errs, &InvalidAnnotationError{Annotation: key, Value: value, Reason: err.Error(), Allowed: a.Allowed})
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
		s.Inbound = portsFromContainers(pod.Spec.Containers)
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

func portsFromContainers(containers []corev1.Container) []Port {
	var ports []Port
	for _, c := range containers {
		for _, cp := range c.Ports {
			if cp.Protocol != "" && cp.Protocol != corev1.ProtocolTCP {
				continue
			}
			if cp.ContainerPort < 1 || cp.ContainerPort > math.MaxUint16 {
				continue
			}
			n := uint16(cp.ContainerPort)
			if slices.ContainsFunc(ports, func(p Port) bool { return p.Number == n }) {
				continue
			}
			proto := protocolFromName(cp.Name)
			ports = append(ports, Port{Number: n, Protocol: proto, Declared: proto != ProtocolAuto})
		}
	}
	slices.SortFunc(ports, func(a, b Port) int { return int(a.Number) - int(b.Number) })
	return ports
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
	var errs []error
	for _, c := range appContainers(pod) {
		if uid, ok := runAsUser(pod, c); ok && uid == s.Proxy.UID {
			errs = append(errs, &PodError{Reason: fmt.Sprintf(
				"container %q runs as UID %d, the proxy's UID: its traffic would bypass the proxy; run it as another user or opt the pod out with %s: \"false\"",
				c.Name, uid, AnnotationInject)})
		}
		if gid, ok := runAsGroup(pod, c); ok && gid == s.Proxy.GID {
			errs = append(errs, &PodError{Reason: fmt.Sprintf(
				"container %q runs as group %d, the proxy's group: its traffic would bypass the proxy; run it as another group or opt the pod out with %s: \"false\"",
				c.Name, gid, AnnotationInject)})
		}
		for _, cp := range c.Ports {
			if cp.ContainerPort >= 1 && cp.ContainerPort <= math.MaxUint16 && slices.Contains(s.Proxy.Ports.All(), uint16(cp.ContainerPort)) {
				errs = append(errs, &PodError{Reason: fmt.Sprintf(
					"container %q declares port %d, which the proxy uses itself (proxy ports: %s)",
					c.Name, cp.ContainerPort, joinPorts(s.Proxy.Ports.All()))})
			}
		}
	}
	for _, p := range s.Inbound {
		if slices.Contains(s.Proxy.Ports.All(), p.Number) {
			errs = append(errs, &PodError{Reason: fmt.Sprintf(
				"annotation %sports lists port %d, which the proxy uses itself (proxy ports: %s)",
				Prefix, p.Number, joinPorts(s.Proxy.Ports.All()))})
		}
	}
	return errors.Join(errs...)
}

func appContainers(pod *corev1.Pod) []corev1.Container {
	return slices.Concat(pod.Spec.InitContainers, pod.Spec.Containers)
}

func runAsUser(pod *corev1.Pod, c corev1.Container) (int64, bool) {
	if c.SecurityContext != nil && c.SecurityContext.RunAsUser != nil {
		return *c.SecurityContext.RunAsUser, true
	}
	if pod.Spec.SecurityContext != nil && pod.Spec.SecurityContext.RunAsUser != nil {
		return *pod.Spec.SecurityContext.RunAsUser, true
	}
	return 0, false
}

func runAsGroup(pod *corev1.Pod, c corev1.Container) (int64, bool) {
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

func unknownAnnotationWarning(key string) string {
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
