package inject

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"gomodules.xyz/jsonpatch/v2"
	corev1 "k8s.io/api/core/v1"
)

// The webhook's patch is built from what injection adds, not by comparing
// the pod before and after: the injector knows its changes (the Status it
// records names them), so the patch costs what those changes cost, whatever
// the size of the rest of the pod. What the operations touch:
//
//   - metadata.annotations: one add per annotation injection added or
//     changed (the whole map when the pod had none);
//   - spec.initContainers, spec.containers and spec.volumes: one add per
//     element injection inserted, at its place (the whole list when the
//     pod had none);
//   - the port of each TCP probe injection rewrote: one replace.
//
// Nothing else of the pod is read, copied or re-encoded: fields this
// binary does not know and values as the user wrote them stay untouched.

// before is what the ops need to know of the pod as it came, taken before
// injection changes the typed pod.
type before struct {
	// hasMetadata and hasSpec say the raw pod has these members, as
	// objects: a patch adds below them, or adds them whole.
	hasMetadata, hasSpec bool
	annotations          map[string]string
	// nilLists are the lists the raw pod lacks (or has as null).
	nilInitContainers, nilContainers, nilVolumes bool
	// probePorts are the tcpSocket ports of the containers' probes, by
	// container (in the pod's order) and probe kind.
	probePorts []map[string]any
}

func tcpPorts(c *corev1.Container) map[string]any {
	ports := map[string]any{}
	for _, kind := range probeKinds {
		if p := probeOfKind(c, kind); p != nil && p.TCPSocket != nil {
			ports[kind] = p.TCPSocket.Port
		}
	}
	return ports
}

// snapshot records what ops needs of pod before injection.
func snapshot(pod *corev1.Pod, hasMetadata, hasSpec bool) before {
	b := before{
		hasMetadata:       hasMetadata,
		hasSpec:           hasSpec,
		annotations:       maps.Clone(pod.Annotations),
		nilInitContainers: pod.Spec.InitContainers == nil,
		nilContainers:     pod.Spec.Containers == nil,
		nilVolumes:        pod.Spec.Volumes == nil,
	}
	for i := range pod.Spec.Containers {
		b.probePorts = append(b.probePorts, tcpPorts(&pod.Spec.Containers[i]))
	}
	return b
}

// ops returns the JSON patch that turns the raw pod b was taken of into
// the injected pod, given what injection added (st).
func ops(b before, pod *corev1.Pod, st Status) []jsonpatch.JsonPatchOperation {
	var out []jsonpatch.JsonPatchOperation
	add := func(path string, v any) {
		out = append(out, jsonpatch.NewOperation("add", path, v))
	}

	// Annotations: those injection added or changed (it removes none).
	changed := map[string]string{}
	for k, v := range pod.Annotations {
		if old, ok := b.annotations[k]; !ok || old != v {
			changed[k] = v
		}
	}
	switch {
	case !b.hasMetadata:
		add("/metadata", map[string]any{"annotations": changed})
	case b.annotations == nil:
		add("/metadata/annotations", changed)
	default:
		for _, k := range slices.Sorted(maps.Keys(changed)) {
			add("/metadata/annotations/"+escapePointer(k), changed[k])
		}
	}

	// Probes, before any container is inserted: the indexes are the pod's.
	user := userContainers(pod.Spec.Containers, st.Containers)
	for i, ports := range b.probePorts {
		if i >= len(user) {
			break
		}
		for _, kind := range probeKinds {
			p := probeOfKind(user[i], kind)
			if _, had := ports[kind]; !had || p == nil || p.TCPSocket == nil || p.TCPSocket.Port == ports[kind] {
				continue
			}
			out = append(out, jsonpatch.NewOperation("replace",
				"/spec/containers/"+strconv.Itoa(i)+"/"+kind+"Probe/tcpSocket/port", p.TCPSocket.Port))
		}
	}

	lists := []struct {
		field  string
		wasNil bool
		names  []string
		list   func() ([]string, []any)
	}{
		{"initContainers", b.nilInitContainers, st.InitContainers, func() ([]string, []any) { return containerList(pod.Spec.InitContainers) }},
		{"containers", b.nilContainers, st.Containers, func() ([]string, []any) { return containerList(pod.Spec.Containers) }},
		{"volumes", b.nilVolumes, st.Volumes, func() ([]string, []any) { return volumeList(pod.Spec.Volumes) }},
	}
	var spec map[string]any
	if !b.hasSpec {
		spec = map[string]any{}
	}
	for _, l := range lists {
		if len(l.names) == 0 {
			continue
		}
		names, values := l.list()
		if l.wasNil || spec != nil {
			if spec != nil {
				spec[l.field] = values
			} else {
				add("/spec/"+l.field, values)
			}
			continue
		}
		// Each added element at its place, in order: when it is inserted,
		// every element before it is in place already.
		for i, name := range names {
			if slices.Contains(l.names, name) {
				add("/spec/"+l.field+"/"+strconv.Itoa(i), values[i])
			}
		}
	}
	if spec != nil {
		add("/spec", spec)
	}
	return out
}

// userContainers returns the containers of list that injection did not
// add, in order: the pod's own, at the indexes they had.
func userContainers(list []corev1.Container, added []string) []*corev1.Container {
	var user []*corev1.Container
	for i := range list {
		if !slices.Contains(added, list[i].Name) {
			user = append(user, &list[i])
		}
	}
	return user
}

func containerList(list []corev1.Container) ([]string, []any) {
	names, values := make([]string, len(list)), make([]any, len(list))
	for i := range list {
		names[i], values[i] = list[i].Name, &list[i]
	}
	return names, values
}

func volumeList(list []corev1.Volume) ([]string, []any) {
	names, values := make([]string, len(list)), make([]any, len(list))
	for i := range list {
		names[i], values[i] = list[i].Name, &list[i]
	}
	return names, values
}

// escapePointer escapes a key for a JSON pointer (RFC 6901).
func escapePointer(k string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(k)
}
