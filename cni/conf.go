package cni

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/containernetworking/cni/pkg/types"
	"github.com/containernetworking/cni/pkg/version"
)

// PluginType is the plugin's type in a conflist, and its binary's name in
// the node's CNI bin folder.
const PluginType = "planeless-cni"

// Conf is the plugin's entry in the node's conflist, as the runtime hands
// it over (with the previous plugin's result).
type Conf struct {
	types.PluginConf
	// Kubeconfig is the file the plugin reads pods with, written by the
	// agent.
	Kubeconfig string `json:"kubeconfig"`
	// ExcludeNamespaces are passed through unread: the control plane's
	// pods must not wait for the API server.
	ExcludeNamespaces []string `json:"excludeNamespaces,omitempty"`
}

// parseConf reads the plugin's configuration; a plugin that is not chained
// (no previous result) is a configuration error.
func parseConf(data []byte) (*Conf, error) {
	var c Conf
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("parsing the %s configuration: %w", PluginType, err)
	}
	if err := version.ParsePrevResult(&c.PluginConf); err != nil {
		return nil, fmt.Errorf("parsing the previous plugin's result: %w", err)
	}
	if c.PrevResult == nil {
		return nil, errors.New(PluginType + " is a chained plugin: it must follow the plugin that sets up the pod's network in a conflist")
	}
	if c.Kubeconfig == "" {
		return nil, errors.New(PluginType + " configuration has no kubeconfig")
	}
	return &c, nil
}

func (c *Conf) excluded(namespace string) bool {
	return slices.Contains(c.ExcludeNamespaces, namespace)
}

// podArgs are the CNI_ARGS a Kubernetes runtime passes, under the names it
// gives them.
type podArgs struct {
	types.CommonArgs
	K8S_POD_NAMESPACE types.UnmarshallableString
	K8S_POD_NAME      types.UnmarshallableString
}

// podOf returns the pod's namespace and name, empty when the runtime did
// not say (a container outside Kubernetes).
func podOf(cniArgs string) (namespace, name string, err error) {
	var a podArgs
	a.IgnoreUnknown = true
	if err := types.LoadArgs(cniArgs, &a); err != nil {
		return "", "", fmt.Errorf("parsing CNI_ARGS: %w", err)
	}
	return string(a.K8S_POD_NAMESPACE), string(a.K8S_POD_NAME), nil
}
