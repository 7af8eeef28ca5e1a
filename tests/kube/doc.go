// Package kube starts the real Kubernetes parts tests run against: a
// kube-apiserver and etcd through controller-runtime's envtest, and the
// kubectl and helm binaries, all built by `make kube-tools` into .tools/.
//
// The Kubernetes version is read from hack/tools/kube/go.mod, the one place
// it is written.
package kube
