package tap

import (
	"fmt"
	"strings"
)

// Kind is what a target names.
type Kind string

// Target kinds.
const (
	KindNamespace  Kind = "namespace"
	KindDeployment Kind = "deployment"
	KindPod        Kind = "pod"
)

// Target is what tap streams: every pod of a namespace, the pods of a
// deployment (its label selector), or one pod.
type Target struct {
	Kind      Kind
	Namespace string
	// Name is the deployment's or the pod's name; empty for a namespace.
	Name string
}

func (t Target) String() string {
	if t.Kind == KindNamespace {
		return "namespace/" + t.Namespace
	}
	return string(t.Kind) + "/" + t.Name + " in namespace " + t.Namespace
}

var kindNames = map[string]Kind{
	"ns": KindNamespace, "namespace": KindNamespace, "namespaces": KindNamespace,
	"deploy": KindDeployment, "deployment": KindDeployment, "deployments": KindDeployment,
	"deployment.apps": KindDeployment, "deployments.apps": KindDeployment,
	"po": KindPod, "pod": KindPod, "pods": KindPod,
}

// ParseTarget reads "ns/NAME", "deploy/NAME" or "pod/NAME" (and the long
// names kubectl accepts); namespace is where deployments and pods are.
func ParseTarget(arg, namespace string) (Target, error) {
	kind, name, ok := strings.Cut(arg, "/")
	if !ok || name == "" || strings.Contains(name, "/") {
		return Target{}, fmt.Errorf("target %q is not ns/NAME, deploy/NAME or pod/NAME", arg)
	}
	k, ok := kindNames[strings.ToLower(kind)]
	if !ok {
		return Target{}, fmt.Errorf("target %q: unknown kind %q (want ns, deploy or pod)", arg, kind)
	}
	if k == KindNamespace {
		return Target{Kind: k, Namespace: name}, nil
	}
	if namespace == "" {
		return Target{}, fmt.Errorf("target %q needs a namespace", arg)
	}
	return Target{Kind: k, Namespace: namespace, Name: name}, nil
}
