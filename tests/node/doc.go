// Package node runs a real single-node Kubernetes cluster on this machine,
// without Docker or a registry, and its tests prove planeless on it.
//
// The node is etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler, containerd (+ the runc shim and runc), the kubelet,
// kube-proxy and CoreDNS, all built or installed by `make tools` (see
// hack/kube.mk and hack/node.mk), with Debian's CNI plugins. Every one of
// them runs inside ONE network namespace of its own ("pln-NAME") and one
// private mount namespace, so nothing touches the machine's own network:
//
//	host                          netns pln-NAME (no route out)
//	pln<k>h 10.214.<k>.1/30 ───── pln<k>n 10.214.<k>.2/30 (the node IP: API server :6443, CoreDNS :53)
//	                              cni0 10.244.0.1/24 ── pods (their own namespaces)
//	                              Services 10.96.0.0/16 (kube-proxy's iptables, routed to cni0)
//
// The host reaches only the API server, through the veth pair, so kubectl
// and helm work from the host with the printed kubeconfig. Everything else
// (pods, Services, CoreDNS, the node's Prometheus) is reached from inside
// the namespace: Cluster.HTTPClient dials from there.
//
// The private mount namespace is held by one process; the daemons enter it
// with nsenter. In it, a fresh sysfs (of the node's network namespace)
// with the cgroup tree bound back, and private folders over the paths the
// kubelet, containerd and the CNI plugins use at fixed places
// (/var/lib/kubelet, /var/lib/cni, /run/containerd, /var/log): nothing they
// mount or write there is seen on the host. The kubelet's pods live in the
// cgroup /planeless-NAME of every hierarchy.
//
// Start builds the images (package images) and imports them into
// containerd under the references the pods use, so nothing is pulled.
// Down kills every process of the node (by mount and network namespace and
// cgroup), removes the cgroups, the namespace and the node's folder
// (/var/lib/planeless-node/NAME); a test run killed before Down is swept by
// the next one. `make cluster` (cmd/cluster) starts the cluster named
// "cluster", installs planeless with its Helm chart and labels a namespace;
// `make cluster-down` removes it.
package node
