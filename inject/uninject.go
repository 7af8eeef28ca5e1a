package inject

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/planeless/planeless/proxy"
	"github.com/planeless/planeless/templates"
)

// Uninject removes from pod, in place, what the injector added to it: the
// containers, init containers, volumes and annotations its status
// annotation lists, and the status annotation itself. It reports whether
// the pod was injected; a pod without a trace of planeless comes back
// unchanged. A pod that carries planeless' parts without a status that
// accounts for them is refused: what to remove would be a guess.
func Uninject(pod *corev1.Pod) (bool, error) {
	raw, err := json.Marshal(pod)
	if err != nil {
		return false, fmt.Errorf("encoding pod: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return false, fmt.Errorf("decoding pod: %w", err)
	}
	changed, err := uninjectPod(m)
	if err != nil || !changed {
		return false, err
	}
	raw, err = json.Marshal(m)
	if err != nil {
		return false, fmt.Errorf("encoding pod: %w", err)
	}
	var out corev1.Pod
	if err := json.Unmarshal(raw, &out); err != nil {
		return false, fmt.Errorf("decoding pod: %w", err)
	}
	*pod = out
	return true, nil
}

// ReadStatus returns the pod's planeless.dev/status, and false when the pod
// has none.
func ReadStatus(pod *corev1.Pod) (Status, bool, error) {
	raw, ok := pod.Annotations[proxy.AnnotationStatus]
	if !ok {
		return Status{}, false, nil
	}
	s, err := decodeStatus(raw)
	return s, true, err
}

// statusFields are the fields of Status this version can undo.
var statusFields = []string{"version", "initContainers", "containers", "volumes", "annotations", "probes"}

// decodeStatus reads a status annotation, refusing fields this version does
// not know: a later planeless recording something more (a rewritten probe)
// needs that planeless to undo it.
func decodeStatus(raw string) (Status, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &fields); err != nil {
		return Status{}, fmt.Errorf("%s is not what planeless writes (%.80q): %w", proxy.AnnotationStatus, raw, err)
	}
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		if !slices.Contains(statusFields, k) {
			return Status{}, fmt.Errorf("%s records %q, which planeless %s cannot undo; use the planeless version that injected it", proxy.AnnotationStatus, k, templates.Version)
		}
	}
	var s Status
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	if err := dec.Decode(&s); err != nil {
		return Status{}, fmt.Errorf("%s is not what planeless writes (%.80q): %w", proxy.AnnotationStatus, raw, err)
	}
	return s, nil
}

// uninjectPod undoes the injection of a pod held as decoded JSON (a Pod or a
// pod template), in place, keeping every field this binary does not know.
func uninjectPod(pod map[string]any) (bool, error) {
	meta, _ := pod["metadata"].(map[string]any)
	spec, _ := pod["spec"].(map[string]any)
	annotations, _ := meta["annotations"].(map[string]any)
	raw, injected := annotations[proxy.AnnotationStatus]
	if !injected {
		if part := planelessPart(spec); part != "" {
			return false, fmt.Errorf("has %s but no %s annotation: planeless did not inject it (or its record was removed), so what it added is unknown; remove planeless' parts by hand", part, proxy.AnnotationStatus)
		}
		return false, nil
	}
	rawString, _ := raw.(string)
	status, err := decodeStatus(rawString)
	if err != nil {
		return false, err
	}
	added := status.Annotations
	if added == nil {
		added = legacyAnnotations(annotations, spec, status)
	}
	for _, list := range []struct {
		field, what string
		names       []string
	}{
		{"initContainers", "init container", status.InitContainers},
		{"containers", "container", status.Containers},
		{"volumes", "volume", status.Volumes},
	} {
		if err := removeNamed(spec, list.field, list.what, list.names); err != nil {
			return false, err
		}
	}
	if part := planelessPart(spec); part != "" {
		return false, fmt.Errorf("has %s, which its %s does not list: it was changed after injection; remove planeless' parts by hand", part, proxy.AnnotationStatus)
	}
	if err := restoreProbes(spec, status.Probes); err != nil {
		return false, err
	}
	for _, k := range append(added, proxy.AnnotationStatus) {
		delete(annotations, k)
	}
	if len(annotations) == 0 {
		delete(meta, "annotations")
	}
	if len(meta) == 0 {
		delete(pod, "metadata")
	}
	return true, nil
}

// restoreProbes gives the TCP probes the injector rewrote their original
// port back.
func restoreProbes(spec map[string]any, probes []RewrittenProbe) error {
	containers, _ := spec["containers"].([]any)
	for _, p := range probes {
		i := slices.IndexFunc(containers, func(c any) bool { return nameOf(c) == p.Container })
		if i < 0 {
			return fmt.Errorf("its %s records a rewritten %s probe of container %s, which is not there: it was changed after injection", proxy.AnnotationStatus, p.Probe, p.Container)
		}
		c, _ := containers[i].(map[string]any)
		probe, _ := c[p.Probe+"Probe"].(map[string]any)
		tcp, _ := probe["tcpSocket"].(map[string]any)
		if tcp == nil {
			return fmt.Errorf("its %s records a rewritten %s probe of container %s, which has no TCP probe now: it was changed after injection", proxy.AnnotationStatus, p.Probe, p.Container)
		}
		if p.Port.Type == intstr.String {
			tcp["port"] = p.Port.StrVal
		} else {
			tcp["port"] = float64(p.Port.IntVal)
		}
	}
	return nil
}

// removeNamed removes the named items of spec[field]; each must be there.
func removeNamed(spec map[string]any, field, what string, names []string) error {
	if len(names) == 0 {
		return nil
	}
	items, _ := spec[field].([]any)
	for _, name := range names {
		i := slices.IndexFunc(items, func(item any) bool { return nameOf(item) == name })
		if i < 0 {
			return fmt.Errorf("its %s lists the %s %s, which is not there: it was changed after injection; remove planeless' parts by hand", proxy.AnnotationStatus, what, name)
		}
		items = slices.Delete(items, i, i+1)
	}
	if len(items) == 0 {
		delete(spec, field)
	} else {
		spec[field] = items
	}
	return nil
}

// planelessPart names a container or volume carrying one of the injector's
// names, or returns "".
func planelessPart(spec map[string]any) string {
	for _, list := range []struct{ field, what string }{
		{"initContainers", "init container"}, {"containers", "container"}, {"volumes", "volume"},
	} {
		items, _ := spec[list.field].([]any)
		for _, item := range items {
			switch name := nameOf(item); name {
			case InitName, ValidateName, ProxyName, BootstrapVolume, XtablesVolume, AdminVolume:
				return list.what + " " + name
			}
		}
	}
	return ""
}

func nameOf(item any) string {
	m, _ := item.(map[string]any)
	name, _ := m["name"].(string)
	return name
}

// legacyAnnotations works out which annotations an injector that did not
// record them added: the bootstrap; the prometheus.io annotations when they
// are exactly the three it writes (it never touches a pod that sets any);
// the default container when the proxy is a regular container and the
// annotation names the first application container.
func legacyAnnotations(annotations, spec map[string]any, status Status) []string {
	added := []string{proxy.AnnotationBootstrap}
	var scrape []string
	for k := range annotations {
		if strings.HasPrefix(k, "prometheus.io/") {
			scrape = append(scrape, k)
		}
	}
	port := statsPort(spec)
	if len(scrape) == 3 && port != "" &&
		annotations[annotationScrape] == "true" &&
		annotations[annotationPort] == port &&
		annotations[annotationPath] == "/stats/prometheus" {
		added = append(added, annotationScrape, annotationPort, annotationPath)
	}
	if len(status.Containers) > 0 {
		containers, _ := spec["containers"].([]any)
		for _, c := range containers {
			if name := nameOf(c); !slices.Contains(status.Containers, name) {
				if annotations[annotationDefaultContainer] == name {
					added = append(added, annotationDefaultContainer)
				}
				break
			}
		}
	}
	return added
}

// statsPort returns the proxy's stats port as the injector wrote it in the
// prometheus.io/port annotation, from the proxy container's port.
func statsPort(spec map[string]any) string {
	for _, field := range []string{"initContainers", "containers"} {
		items, _ := spec[field].([]any)
		for _, item := range items {
			if nameOf(item) != ProxyName {
				continue
			}
			ports, _ := item.(map[string]any)["ports"].([]any)
			for _, p := range ports {
				pm, _ := p.(map[string]any)
				if pm["name"] != StatsPortName {
					continue
				}
				// Decoded JSON holds float64, unstructured objects int64.
				switch n := pm["containerPort"].(type) {
				case float64:
					return strconv.Itoa(int(n))
				case int64:
					return strconv.FormatInt(n, 10)
				}
			}
		}
	}
	return ""
}
