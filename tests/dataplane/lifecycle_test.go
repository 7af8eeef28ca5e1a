package dataplane

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/planeless/planeless/tests/harness"
)

// TestKillingEnvoyAndStartingItAgainRestoresTraffic crashes each sidecar
// (SIGKILL) and starts it again, as the kubelet restarts a container.
func TestKillingEnvoyAndStartingItAgainRestoresTraffic(t *testing.T) {
	t.Parallel()
	s := startShop(t)
	call := func(t *testing.T) (int, string) {
		r := s.client.Get(t, "http://server:8080/restart")
		return r.Status, r.Error
	}
	if status, err := call(t); status != 200 {
		t.Fatalf("before any restart: status %d %s", status, err)
	}

	t.Run("the client's traffic stops while its Envoy is down and flows once it is back", func(t *testing.T) {
		s.client.KillEnvoy(t)
		if status, _ := call(t); status == 200 {
			t.Errorf("with the client's Envoy dead the request still succeeded: its traffic bypasses the proxy")
		}
		s.client.StartEnvoy(t)
		if status, err := call(t); status != 200 {
			t.Errorf("after restarting the client's Envoy: status %d %s", status, err)
		}
	})

	t.Run("the server's inbound traffic stops while its Envoy is down and flows once it is back", func(t *testing.T) {
		s.server.KillEnvoy(t)
		if status, _ := call(t); status == 200 {
			t.Errorf("with the server's Envoy dead the request still succeeded: inbound traffic bypasses the proxy")
		}
		s.server.StartEnvoy(t)
		if status, err := call(t); status != 200 {
			t.Errorf("after restarting the server's Envoy: status %d %s", status, err)
		}
	})
}

// TestRerunningInitChangesNoRule runs each init container's command a
// second time, as the kubelet does when a pod's sandbox restarts.
func TestRerunningInitChangesNoRule(t *testing.T) {
	t.Parallel()
	s := startShop(t)
	for name, pod := range map[string]*harness.Pod{"client": s.client, "server": s.server} {
		t.Run("on the "+name, func(t *testing.T) {
			before := pod.Rules(t)
			if !strings.Contains(before, "-j REDIRECT") {
				t.Fatalf("the %s has no redirect rules to begin with:\n%s", name, before)
			}
			if out, err := pod.RunInit(t.Context()); err != nil {
				t.Fatalf("running init again: %v\n%s", err, out)
			}
			if diff := cmp.Diff(before, pod.Rules(t)); diff != "" {
				t.Errorf("running init again changed the rules (-before +after):\n%s", diff)
			}
		})
	}
	if r := s.client.Get(t, "http://server:8080/after-init"); r.Status != 200 {
		t.Errorf("after running init again: status %d %s", r.Status, r.Error)
	}
}
