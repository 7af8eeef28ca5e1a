package tap

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/planeless/planeless/tap"
)

// TestTapOnARealAPIServer runs taps through the real kube-apiserver's
// pods/log (proxied to the fake kubelet, which serves the real Envoy logs
// of harness pods) while a client calls a server through both sidecars.
//
// Every tap starts before the pods exist, so the pods join running taps.
// All traffic ends with a sentinel request that every filter lets through:
// once a tap printed it, the tap has read every earlier line of both pods
// (each pod's log is read in order), so stopping it then prints exactly
// what it selected from the traffic.
func TestTapOnARealAPIServer(t *testing.T) {
	c := startCluster(t)
	client := c.kube.Client
	createDeployment(t, client)
	ns := tap.Target{Kind: tap.KindNamespace, Namespace: namespace}

	taps := map[string]struct {
		target tap.Target
		filter tap.Filter
		// alone: the tap sees one side of each request, so nothing waits
		// for a pair.
		alone bool
		want  []string
	}{
		"the namespace, unfiltered, merges both pods' logs and pairs their sides": {
			target: ns,
			want: []string{
				"client→server GET /tap/items 200",
				"client→server GET /tap/fail?status=503 503",
				"client→server GET /tap/missing?status=404 404",
				"client→server POST /tap/orders 200",
				"client→server DELETE /other/orders/7 200",
				"client→server POST /grpc.testing.TestService/UnaryCall 200",
				"client→? GET /tap/closed 503",
				"?→server GET /tap/outside 200",
			},
		},
		"--status 500-599": {
			target: ns, filter: tap.Filter{Status: mustStatus(t, "500-599")},
			want: []string{
				"client→server GET /tap/fail?status=503 503",
				"client→? GET /tap/closed 503",
			},
		},
		"--method POST,DELETE": {
			target: ns, filter: tap.Filter{Methods: tap.ParseMethods("post,DELETE")},
			want: []string{
				"client→server POST /tap/orders 200",
				"client→server DELETE /other/orders/7 200",
				"client→server POST /grpc.testing.TestService/UnaryCall 200",
			},
		},
		"--path prefix": {
			target: ns, filter: tap.Filter{Path: mustPath(t, "/tap/")},
			want: []string{
				"client→server GET /tap/items 200",
				"client→server GET /tap/fail?status=503 503",
				"client→server GET /tap/missing?status=404 404",
				"client→server POST /tap/orders 200",
				"client→? GET /tap/closed 503",
				"?→server GET /tap/outside 200",
			},
		},
		"--path regular expression": {
			target: ns, filter: tap.Filter{Path: mustPath(t, `~/(orders|sentinel)\b`)},
			want: []string{
				"client→server POST /tap/orders 200",
				"client→server DELETE /other/orders/7 200",
			},
		},
		"--authority with a port": {
			target: ns, filter: tap.Filter{Authorities: tap.ParseAuthorities("server.shop:8080")},
			want: []string{
				"client→server GET /tap/items 200",
				"client→server GET /tap/fail?status=503 503",
				"client→server GET /tap/missing?status=404 404",
				"client→server POST /tap/orders 200",
				"client→server DELETE /other/orders/7 200",
				"?→server GET /tap/outside 200",
			},
		},
		"--direction outbound": {
			target: ns, filter: tap.Filter{Direction: tap.Outbound},
			want: []string{
				"client→? GET /tap/items 200",
				"client→? GET /tap/fail?status=503 503",
				"client→? GET /tap/missing?status=404 404",
				"client→? POST /tap/orders 200",
				"client→? DELETE /other/orders/7 200",
				"client→? POST /grpc.testing.TestService/UnaryCall 200",
				"client→? GET /tap/closed 503",
			},
		},
		"deploy/server follows only the server's pods": {
			target: tap.Target{Kind: tap.KindDeployment, Namespace: namespace, Name: "server"},
			alone:  true,
			want: []string{
				"?→server GET /tap/items 200",
				"?→server GET /tap/fail?status=503 503",
				"?→server GET /tap/missing?status=404 404",
				"?→server POST /tap/orders 200",
				"?→server DELETE /other/orders/7 200",
				"?→server POST /grpc.testing.TestService/UnaryCall 200",
				"?→server GET /tap/outside 200",
			},
		},
	}
	// The sentinel: a POST from the client to server.shop:8080 that fails
	// with 599, so that every filter above lets it through.
	const sentinel = "/tap/sentinel?status=599"
	running := map[string]*running{}
	for name, tc := range taps {
		wait := time.Minute
		if tc.alone {
			wait = 0
		}
		running[name] = startTap(t, client, name, tc.target, tc.filter, wait)
	}

	server := c.run(t, c.pods["server"], serverApps("server"))
	clientPod := c.run(t, c.pods["client"], clientApps())
	outsider := c.h.Plain(t, "outsider", harnessNoApps())

	clientPod.Get(t, "http://server.shop:8080/tap/items")
	clientPod.Get(t, "http://server.shop:8080/tap/fail?status=503")
	clientPod.Get(t, "http://server.shop:8080/tap/missing?status=404")
	curl(t, clientPod, "POST", "http://server.shop:8080/tap/orders")
	curl(t, clientPod, "DELETE", "http://server.shop:8080/other/orders/7")
	if r := clientPod.GRPC(t, "-target", "server.shop:9090", "-payload", "hi"); r.Code != "OK" {
		t.Fatalf("gRPC call: %s %s", r.Code, r.Message)
	}
	clientPod.Get(t, "http://server.shop:8081/tap/closed")
	outsider.Get(t, "http://server.shop:8080/tap/outside")
	curl(t, clientPod, "POST", "http://server.shop:8080"+sentinel)

	for name, tc := range taps {
		t.Run(name, func(t *testing.T) {
			r := running[name]
			r.waitFor(t, "sentinel", func(rec tap.Record) bool { return rec.Path == sentinel })
			r.stop(t)
			var got []string
			for _, rec := range r.records(t) {
				if rec.Path != sentinel {
					got = append(got, summary(rec))
				}
			}
			if diff := cmp.Diff(sorted(tc.want...), sorted(got...)); diff != "" {
				t.Errorf("requests (-want +got):\n%s\n%s", diff, r.out.String())
			}
		})
	}

	t.Run("a pair joins the client's outbound and the server's inbound line of one request", func(t *testing.T) {
		pairs := 0
		for _, rec := range running["the namespace, unfiltered, merges both pods' logs and pairs their sides"].records(t) {
			if !rec.Paired {
				continue
			}
			pairs++
			var out, in tap.Entry
			var err error
			if out, err = tap.Parse(rec.Outbound); err != nil {
				t.Fatal(err)
			}
			if in, err = tap.Parse(rec.Inbound); err != nil {
				t.Fatal(err)
			}
			if out.Direction != tap.Outbound || in.Direction != tap.Inbound || out.RequestID != in.RequestID || out.RequestID == "" {
				t.Errorf("%s pairs %s %s with %s %s", summary(rec), out.Direction, out.RequestID, in.Direction, in.RequestID)
			}
			if rec.Source.Pod != clientPod.Name || rec.Destination.Pod != server.Name || rec.Destination.Address != fmt.Sprintf("%s:%d", server.IP, portOf(rec.Authority)) {
				t.Errorf("%s: source %+v, destination %+v", summary(rec), rec.Source, rec.Destination)
			}
		}
		if pairs != 7 {
			t.Errorf("%d paired requests, want 7 (six and the sentinel)", pairs)
		}
	})

	t.Run("a pod of the deployment created while tap runs joins, and leaves when deleted", func(t *testing.T) {
		r := startTap(t, client, "deploy/server, later", tap.Target{Kind: tap.KindDeployment, Namespace: namespace, Name: "server"}, tap.Filter{}, 0)
		second := c.pods["server"].DeepCopy()
		second.Name = "server-b"
		b := c.run(t, second, serverApps("server-b"))
		// By IP: the client's Envoy resolved its names before server-b existed.
		clientPod.Get(t, fmt.Sprintf("http://%s:8080/tap/joined", b.IP))
		rec := r.waitFor(t, "the new pod's request", func(rec tap.Record) bool { return rec.Path == "/tap/joined" })
		if rec.Destination == nil || rec.Destination.Pod != b.Name || rec.Outbound != nil {
			t.Errorf("the new pod's request is %s, destination %+v", summary(rec), rec.Destination)
		}

		// The kubelet stops the containers, then removes the pod.
		c.kubelet.stop(namespace, b.Name)
		if err := client.CoreV1().Pods(namespace).Delete(t.Context(), b.Name, metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "server-b leaving", func() bool { return r.hasEvent(tap.PodLeft, b.Name) })
		if r.hasEvent(tap.PodLeft, server.Name) {
			t.Error("the first server left too")
		}
	})

	t.Run("a pod running when tap starts shows only new requests", func(t *testing.T) {
		before := c.kubelet.streamsOf(namespace, server.Name)
		r := startTap(t, client, "pod/server, late", tap.Target{Kind: tap.KindPod, Namespace: namespace, Name: server.Name}, tap.Filter{}, 0)
		waitUntil(t, "the late tap following the server's new lines", func() bool {
			return c.kubelet.streamsOf(namespace, server.Name) > before
		})
		clientPod.Get(t, "http://server.shop:8080/tap/late")
		r.waitFor(t, "the new request", func(rec tap.Record) bool { return rec.Path == "/tap/late" })
		r.stop(t)
		if diff := cmp.Diff([]string{"?→server GET /tap/late 200"}, summaries(r.records(t))); diff != "" {
			t.Errorf("requests (-want +got):\n%s", diff)
		}
	})

	t.Run("kubectl planeless tap runs the binary as a kubectl plugin", func(t *testing.T) {
		testKubectlPlugin(t, c, clientPod, server)
	})
}
