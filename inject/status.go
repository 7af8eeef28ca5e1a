package inject

import (
	"encoding/json"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"

	"github.com/planeless/planeless/proxy"
)

// Status is what the injector records in the planeless.dev/status
// annotation: what it added, so that a second pass changes nothing and a
// reader can tell planeless' parts from the user's.
type Status struct {
	Version        string   `json:"version"`
	InitContainers []string `json:"initContainers"`
	Containers     []string `json:"containers,omitempty"`
	Volumes        []string `json:"volumes"`
	// Annotations are the annotations the injector added, besides the
	// status itself; absent in statuses written before they were recorded.
	Annotations []string `json:"annotations,omitempty"`
	// Probes are the user's probes the injector rewrote, as they were.
	Probes []RewrittenProbe `json:"probes,omitempty"`
}

// addedKeys returns the keys of after that before lacks, sorted.
func addedKeys(before, after map[string]string) []string {
	var added []string
	for k := range after {
		if _, ok := before[k]; !ok {
			added = append(added, k)
		}
	}
	slices.Sort(added)
	return added
}

func (s Status) encode() string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(fmt.Sprintf("status is always encodable: %v", err))
	}
	return string(b)
}

// Injected reports whether the pod already went through the injector: it
// carries the status annotation or a container named like the proxy.
func Injected(pod *corev1.Pod) bool {
	if _, ok := pod.Annotations[proxy.AnnotationStatus]; ok {
		return true
	}
	for _, list := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for _, c := range list {
			if c.Name == ProxyName || c.Name == InitName || c.Name == ValidateName {
				return true
			}
		}
	}
	return false
}
