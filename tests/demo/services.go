package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	corev1 "k8s.io/api/core/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// readServices returns the Services of a manifest: the demo resolves their
// names to the pod they select, as cluster DNS would.
func readServices(path string) ([]corev1.Service, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var services []corev1.Service
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return services, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", path, err)
		}
		var head struct {
			Kind string `json:"kind"`
		}
		if err := yaml.Unmarshal(doc, &head); err != nil || head.Kind != "Service" {
			continue
		}
		var svc corev1.Service
		if err := yaml.Unmarshal(doc, &svc); err != nil {
			return nil, fmt.Errorf("reading a Service in %s: %w", path, err)
		}
		services = append(services, svc)
	}
}

// aliasesOf lists the DNS names of the Services that select pod.
func aliasesOf(pod *corev1.Pod, services []corev1.Service) []string {
	var names []string
	for _, svc := range services {
		if svc.Namespace != pod.Namespace || len(svc.Spec.Selector) == 0 {
			continue
		}
		selected := true
		for k, v := range svc.Spec.Selector {
			if pod.Labels[k] != v {
				selected = false
			}
		}
		if selected {
			names = append(names, svc.Name, svc.Name+"."+svc.Namespace, svc.Name+"."+svc.Namespace+".svc.cluster.local")
		}
	}
	return names
}
