// Package cni is planeless's CNI mode on the pod's side: the chained CNI
// plugin (`planeless cni`) that installs a pod's iptables rules when the
// container runtime creates the pod's network, and the unprivileged check
// (`planeless validate`, the init container planeless-validate) that the
// rules are there before any other container of the pod starts.
//
// # What the plugin reads, and why from the API
//
// The runtime tells a CNI plugin the pod's namespace and name (CNI_ARGS
// K8S_POD_NAMESPACE, K8S_POD_NAME) and nothing of its spec. The plugin
// reads the pod from the API server, with the kubeconfig the node agent
// writes for it (package cni/agent), and acts only on pods carrying the
// init container planeless-validate: the webhook in CNI mode gave that
// container exactly the flags it gives planeless-init in init mode (the
// pod's iptables.Config, from its Spec), and the plugin parses them with
// the same flag set and installs iptables.Plan of them with the same
// iptables.Install, in the pod's network namespace. So one Spec gives the
// same rules in both modes, and a pod's rules are read from its spec,
// which nobody can change after creation (annotations can be). Passing
// the configuration in CNI arguments instead would need the runtime to
// know it (it does not), and a default configuration for every pod would
// ignore the pod's own ports and annotations.
//
// Every other pod (not injected, injected in init mode, or in a namespace
// the configuration excludes) is passed through: the previous plugin's
// result is returned as it came. DEL has nothing to undo (the rules live
// in the pod's network namespace, which goes with it; nothing is kept on
// the node) and always succeeds; CHECK verifies that every planned rule
// is in the pod's namespace. Errors name the pod.
//
// The plugin runs on the node, as root, with the node's iptables binaries
// (iptables-nft or -legacy, picked as planeless-init picks them).
package cni
