package check

import (
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/planeless/planeless/inject"
)

// tokenVolumePrefix names the service account token volume the API server
// adds to every pod; it adds a fresh one to a pod created again.
const tokenVolumePrefix = "kube-api-access-"

// Original returns the pod to create again to learn today's injection: the
// stored pod without planeless' parts (inject.Uninject) and without what
// the API server and the cluster added after admission (status, identity,
// scheduling, priority, the token volume), named as it was admitted.
func Original(stored *corev1.Pod) (*corev1.Pod, error) {
	pod := stored.DeepCopy()
	if _, err := inject.Uninject(pod); err != nil {
		return nil, err
	}
	out := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:   pod.Namespace,
			Labels:      pod.Labels,
			Annotations: pod.Annotations,
		},
		Spec: pod.Spec,
	}
	if pod.GenerateName != "" && strings.HasPrefix(pod.Name, pod.GenerateName) {
		// Made by a controller: admitted without a name.
		out.GenerateName = pod.GenerateName
	} else {
		// Named by its author. A dry run cannot reuse the name of a pod
		// that exists; the injector names an unnamed pod's workload after
		// its generateName, less the dash, which gives the same name.
		out.GenerateName = pod.Name + "-"
	}
	spec := &out.Spec
	spec.NodeName = ""
	spec.EphemeralContainers = nil
	spec.Priority, spec.PreemptionPolicy = nil, nil
	removed := map[string]bool{}
	spec.Volumes = slices.DeleteFunc(spec.Volumes, func(v corev1.Volume) bool {
		removed[v.Name] = isTokenVolume(v)
		return removed[v.Name]
	})
	for _, list := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for i := range list {
			list[i].VolumeMounts = slices.DeleteFunc(list[i].VolumeMounts, func(m corev1.VolumeMount) bool { return removed[m.Name] })
		}
	}
	return out, nil
}

func isTokenVolume(v corev1.Volume) bool {
	if !strings.HasPrefix(v.Name, tokenVolumePrefix) || v.Projected == nil {
		return false
	}
	for _, s := range v.Projected.Sources {
		if s.ServiceAccountToken != nil {
			return true
		}
	}
	return false
}
