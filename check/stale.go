package check

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/planeless/planeless/inject"
	"github.com/planeless/planeless/proxy"
)

// differences says how the injection a pod runs with differs from the one
// the webhook would give it today; empty when they are the same. Both pods
// are as the API server stores them (defaulted), so every field compares
// as it is.
func differences(stored, today *corev1.Pod) ([]string, error) {
	was, _, err := inject.ReadStatus(stored)
	if err != nil {
		return nil, err
	}
	now, ok, err := inject.ReadStatus(today)
	if err != nil {
		return nil, fmt.Errorf("the webhook's answer: %w", err)
	}
	if !ok {
		return nil, fmt.Errorf("the webhook did not inject the pod today")
	}
	var out []string
	if was.Version != now.Version {
		out = append(out, fmt.Sprintf("injected by planeless %s, the webhook runs %s", orUnknown(was.Version), now.Version))
	}
	if path := jsonDifference(stored.Annotations[proxy.AnnotationBootstrap], today.Annotations[proxy.AnnotationBootstrap]); path != "" {
		out = append(out, "Envoy bootstrap differs at "+path)
	}
	if !slices.Equal(was.InitContainers, now.InitContainers) || !slices.Equal(was.Containers, now.Containers) {
		out = append(out, fmt.Sprintf("placement differs: init containers %v and containers %v, today %v and %v",
			was.InitContainers, was.Containers, now.InitContainers, now.Containers))
	}
	for _, name := range slices.Concat(now.InitContainers, now.Containers) {
		s, t := container(stored, name), container(today, name)
		if s == nil || t == nil {
			continue
		}
		if s.Image != t.Image {
			out = append(out, fmt.Sprintf("%s image %s, today %s", name, s.Image, t.Image))
		}
		if arg := argDifference(s.Args, t.Args); arg != "" {
			out = append(out, fmt.Sprintf("%s runs with %s", name, arg))
		}
		if fields := differingFields(s, t, "image", "args"); len(fields) > 0 {
			out = append(out, fmt.Sprintf("%s differs in %s", name, strings.Join(fields, ", ")))
		}
	}
	for _, name := range now.Volumes {
		s, t := volume(stored, name), volume(today, name)
		switch {
		case s == nil:
			out = append(out, fmt.Sprintf("volume %s is new", name))
		case !reflect.DeepEqual(s, t):
			out = append(out, fmt.Sprintf("volume %s differs", name))
		}
	}
	for _, name := range was.Volumes {
		if !slices.Contains(now.Volumes, name) {
			out = append(out, fmt.Sprintf("volume %s is gone today", name))
		}
	}
	for _, k := range now.Annotations {
		if k == proxy.AnnotationBootstrap {
			continue
		}
		if s, t := stored.Annotations[k], today.Annotations[k]; s != t {
			out = append(out, fmt.Sprintf("annotation %s is %s, today %s", k, strconv.Quote(s), strconv.Quote(t)))
		}
	}
	return out, nil
}

func orUnknown(v string) string {
	if v == "" {
		return "(unknown version)"
	}
	return v
}

func container(pod *corev1.Pod, name string) *corev1.Container {
	for _, list := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range list {
			if list[i].Name == name {
				return &list[i]
			}
		}
	}
	return nil
}

func volume(pod *corev1.Pod, name string) *corev1.Volume {
	for i := range pod.Spec.Volumes {
		if pod.Spec.Volumes[i].Name == name {
			return &pod.Spec.Volumes[i]
		}
	}
	return nil
}

// differingFields names the top-level fields of two objects that differ,
// but for those skipped.
func differingFields(a, b any, skip ...string) []string {
	am, bm := asMap(a), asMap(b)
	var out []string
	for _, k := range sortedUnion(am, bm) {
		if !slices.Contains(skip, k) && !reflect.DeepEqual(am[k], bm[k]) {
			out = append(out, k)
		}
	}
	return out
}

func asMap(v any) map[string]any {
	b, _ := json.Marshal(v)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

func sortedUnion(a, b map[string]any) []string {
	var keys []string
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// jsonDifference returns the path of the first place two JSON documents
// differ, "" when they mean the same (the bootstrap's protojson text may
// differ in spacing between builds; its meaning is what counts).
func jsonDifference(a, b string) string {
	var av, bv any
	errA, errB := json.Unmarshal([]byte(a), &av), json.Unmarshal([]byte(b), &bv)
	if errA != nil || errB != nil {
		if a == b {
			return ""
		}
		return "(not JSON)"
	}
	return firstDifference("", av, bv)
}

func firstDifference(path string, a, b any) string {
	if reflect.DeepEqual(a, b) {
		return ""
	}
	switch at := a.(type) {
	case map[string]any:
		if bt, ok := b.(map[string]any); ok {
			for _, k := range sortedUnion(at, bt) {
				if d := firstDifference(path+"."+k, at[k], bt[k]); d != "" {
					return d
				}
			}
		}
	case []any:
		if bt, ok := b.([]any); ok && len(at) == len(bt) {
			for i := range at {
				if d := firstDifference(fmt.Sprintf("%s[%d]", path, i), at[i], bt[i]); d != "" {
					return d
				}
			}
		}
	}
	if path == "" {
		return "the top"
	}
	return strings.TrimPrefix(path, ".")
}

// argDifference describes the first argument that differs: "--log-level
// debug, today warning" for a flag and its value, "" when none does.
func argDifference(was, now []string) string {
	for i := 0; i < max(len(was), len(now)); i++ {
		w, n := at(was, i), at(now, i)
		if w == n {
			continue
		}
		if flag := at(was, i-1); i > 0 && flag == at(now, i-1) && strings.HasPrefix(flag, "-") && !strings.HasPrefix(w, "-") {
			return fmt.Sprintf("%s %s, today %s", flag, w, n)
		}
		return fmt.Sprintf("argument %s, today %s", orNone(w), orNone(n))
	}
	return ""
}

func at(list []string, i int) string {
	if i < 0 || i >= len(list) {
		return ""
	}
	return list[i]
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return strconv.Quote(s)
}
