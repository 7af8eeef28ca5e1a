package dataplane

import (
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/planeless/planeless/tests/harness"

	_ "github.com/planeless/planeless/tests/golden"
)

// shop is the client and server of testdata/pods.yaml, injected by
// `planeless inject` and running, plus two pods without a sidecar: a raw
// TCP echo server (speaking first on 7001) and an outsider to call from.
type shop struct {
	h        *harness.Harness
	server   *harness.Pod
	client   *harness.Pod
	echo     *harness.Pod
	outsider *harness.Pod
}

func startShop(t *testing.T) *shop {
	t.Helper()
	pods := map[string]*corev1.Pod{}
	for _, p := range harness.Inject(t, filepath.Join("testdata", "pods.yaml")) {
		pods[p.Name] = p
	}
	h := harness.New(t)
	s := &shop{h: h}
	s.echo = h.Plain(t, "echo", harness.PodOptions{Apps: map[string][]string{
		"echo":   {"tcp-echo", "-listen", ":7000"},
		"banner": {"tcp-echo", "-listen", ":7001", "-banner", "220 echo ready"},
		"bypass": {"tcp-echo", "-listen", ":7002"},
	}})
	s.server = h.Start(t, pods["server"], harness.PodOptions{
		Apps: map[string][]string{
			"web":  {"rest", "-grpc", "-listen", ":8080", "-name", "server"},
			"grpc": {"grpc", "-listen", ":9090", "-name", "server"},
		},
		Aliases: []string{"server.shop", "server.shop.svc.cluster.local"},
	})
	s.client = h.Start(t, pods["client"], harness.PodOptions{
		Apps:    map[string][]string{"web": {"rest", "-listen", ":8080", "-name", "client"}},
		Aliases: []string{"client-svc", "client-svc.shop.svc.cluster.local"},
	})
	s.outsider = h.Plain(t, "outsider", harness.PodOptions{})
	return s
}

// Stats names. The cluster names are the bootstrap's: inbound|http
// (HTTP/1.1 to the app, every port), inbound|grpc (HTTP/2 to the app), and one
// DFPCluster_<host>_<port> per destination on the outbound side.
const (
	upstreamRqTotal   = "envoy_cluster_upstream_rq_total"
	upstreamRq        = "envoy_cluster_upstream_rq"
	downstreamRqTotal = "envoy_http_downstream_rq_total"
)

func cluster(name string) map[string]string { return map[string]string{"envoy_cluster_name": name} }
