package pods

import (
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

const prefix = "planeless.dev/"

// Hostile returns pods written to make admission expensive or its answer
// huge, by what they do: each must be answered fast with a short message
// by a webhook whose cost does not grow with what the pod says. annotations
// are the names of every annotation planeless reads (proxy.Annotations),
// for the pod that sets all of them to a megabyte.
func Hostile(annotations []string) map[string]*corev1.Pod {
	list := func(n int, item func(i int) string) string {
		items := make([]string, n)
		for i := range items {
			items[i] = item(i)
		}
		return strings.Join(items, ",")
	}
	mb := strings.Repeat("x", 1<<20)
	unknown := map[string]string{}
	for i := range 20000 {
		unknown[fmt.Sprintf("%splaneless-key-%05d", prefix, i)] = "v"
	}
	// As much as the API server's 3 MiB request limit lets through.
	every := map[string]string{}
	for _, a := range annotations {
		every[a] = mb[:100<<10]
	}
	manyContainers := func(p *corev1.Pod) {
		for i := range 2000 {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: fmt.Sprintf("c%d", i), Image: "x"})
		}
	}
	pod := func(opts ...Option) *corev1.Pod {
		return New("hostile", append([]Option{Namespace("shop")}, opts...)...)
	}
	return map[string]*corev1.Pod{
		"40,000 ports":                        pod(Annotation(prefix+"ports", list(40000, func(i int) string { return strconv.Itoa(i%65535 + 1) }))),
		"a range of every port":               pod(Annotation(prefix+"ports", "1-65535")),
		"30,000 CIDRs":                        pod(Annotation(prefix+"exclude-outbound-cidrs", list(30000, func(i int) string { return fmt.Sprintf("10.%d.%d.0/24", i/256%256, i%256) }))),
		"50,000 header names":                 pod(Annotation(prefix+"access-log-request-headers", list(50000, func(i int) string { return fmt.Sprintf("x-h-%d", i) }))),
		"20,000 unknown keys":                 pod(Annotations(unknown)),
		"a 1 MB tracing endpoint":             pod(Annotation(prefix+"tracing-endpoint", mb+":9411")),
		"a 1 MB unknown key":                  pod(Annotation(prefix+mb, "v")),
		"every annotation 100 KB":             pod(Annotations(every)),
		"40,000 container ports":              pod(ManyPorts(1, 40000)),
		"2,000 containers as the proxy's UID": pod(manyContainers, RunAsUser(1337)),
		"a 1 MB app label":                    pod(Label("app", mb)),
		"a 1 MB container name": pod(func(p *corev1.Pod) {
			p.Spec.Containers[0].Name = mb
			p.Spec.Containers[0].Ports[0].ContainerPort = 15090
		}),
	}
}
