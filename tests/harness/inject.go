package harness

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"

	corev1 "k8s.io/api/core/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// Inject runs `planeless inject -f manifest` and returns the pods of its
// output: Pods as they are, and one pod per pod template (Deployment,
// StatefulSet, DaemonSet, ReplicaSet, Job, CronJob) named after its
// workload.
func Inject(t T, manifest string) []*corev1.Pod {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(t.Context(), Planeless(t), "inject", "-f", manifest)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("planeless inject -f %s: %v\n%s", manifest, err, stderr.String())
	}
	pods, err := DecodePods(stdout.Bytes())
	if err != nil {
		t.Fatalf("reading the output of planeless inject -f %s: %v", manifest, err)
	}
	return pods
}

// DecodePods reads a multi-document YAML stream and returns its pods and
// the pods of its pod templates.
func DecodePods(data []byte) ([]*corev1.Pod, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var pods []*corev1.Pod
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return pods, nil
		}
		if err != nil {
			return nil, fmt.Errorf("splitting documents: %w", err)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		pod, err := decodePod(doc)
		if err != nil {
			return nil, err
		}
		if pod != nil {
			pods = append(pods, pod)
		}
	}
}

func decodePod(doc []byte) (*corev1.Pod, error) {
	var head struct {
		Kind     string `json:"kind"`
		Metadata struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
		Spec struct {
			Template    *corev1.PodTemplateSpec `json:"template"`
			JobTemplate *struct {
				Spec struct {
					Template *corev1.PodTemplateSpec `json:"template"`
				} `json:"spec"`
			} `json:"jobTemplate"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(doc, &head); err != nil {
		return nil, fmt.Errorf("decoding a document: %w", err)
	}
	if head.Kind == "Pod" {
		pod := &corev1.Pod{}
		if err := yaml.Unmarshal(doc, pod); err != nil {
			return nil, fmt.Errorf("decoding pod %s: %w", head.Metadata.Name, err)
		}
		return pod, nil
	}
	tmpl := head.Spec.Template
	if head.Spec.JobTemplate != nil {
		tmpl = head.Spec.JobTemplate.Spec.Template
	}
	if tmpl == nil {
		return nil, nil
	}
	pod := &corev1.Pod{ObjectMeta: tmpl.ObjectMeta, Spec: tmpl.Spec}
	pod.Kind, pod.APIVersion = "Pod", "v1"
	pod.Name = head.Metadata.Name
	pod.Namespace = head.Metadata.Namespace
	return pod, nil
}

// expand replaces $(VAR) in a container's command and args with the
// container's environment, as the kubelet does ($$ escapes a $; unknown
// references stay as they are).
func expand(s string, env map[string]string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i:], ')')
			if end < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			name := s[i+2 : i+end]
			if v, ok := env[name]; ok {
				b.WriteString(v)
			} else {
				b.WriteString(s[i : i+end+1])
			}
			i += end
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// containerEnv is the container's environment: literal values and the
// downward API fields a pod without a kubelet can answer.
func (p *Pod) containerEnv(c *corev1.Container) map[string]string {
	env := map[string]string{}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = expand(e.Value, env)
		case e.ValueFrom.FieldRef != nil:
			switch e.ValueFrom.FieldRef.FieldPath {
			case "metadata.name":
				env[e.Name] = p.Object.Name
			case "metadata.namespace":
				env[e.Name] = p.Object.Namespace
			case "status.podIP", "status.podIPs":
				env[e.Name] = p.IP.String()
			case "spec.serviceAccountName":
				env[e.Name] = p.Object.Spec.ServiceAccountName
			}
		}
	}
	return env
}

// expandAll expands every element of argv with the container's env.
func (p *Pod) expandAll(c *corev1.Container, argv []string) []string {
	env := p.containerEnv(c)
	out := make([]string, len(argv))
	for i, a := range argv {
		out[i] = expand(a, env)
	}
	return out
}

// envList is the container's environment as KEY=value lines.
func (p *Pod) envList(c *corev1.Container) []string {
	var out []string
	for k, v := range p.containerEnv(c) {
		out = append(out, k+"="+v)
	}
	return out
}
