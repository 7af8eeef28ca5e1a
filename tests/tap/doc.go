// Package tap tests `planeless tap` against a real kube-apiserver: the
// sidecars run on the data-plane harness (tests/harness), their pods are
// registered in the API server on a Node whose kubelet is a small log
// server of this test on 127.0.0.1, which serves the real Envoy logs as
// they are written. The API server proxies pods/log to it, as it would to
// a kubelet.
package tap
