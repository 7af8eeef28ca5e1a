package node

import (
	"bufio"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// drainSeconds is the pods' planeless.dev/drain-seconds in these tests.
const drainSeconds = 5

// drainApps: a server Deployment (2 replicas) behind a Service, whose app
// serves on after SIGTERM for longer than drain-seconds, as an app that
// lets its pod drain does; a worker whose app calls the server steadily and, once asked to
// stop, finishes its work for 3 s (less than drain-seconds) before it
// exits. native-sidecar is NATIVE.
func drainApps(native bool) string {
	return fmt.Sprintf(`
apiVersion: apps/v1
kind: Deployment
metadata: {name: server}
spec:
  replicas: 2
  selector: {matchLabels: {app: server}}
  template:
    metadata:
      labels: {app: server}
      annotations: {planeless.dev/native-sidecar: "%[1]v", planeless.dev/drain-seconds: "%[2]d"}
    spec:
      containers:
        - name: server
          image: %[3]s
          args: [rest, -listen, ":8080", -name, server, -term-delay, "%[4]ds"]
          ports: [{containerPort: 8080}]
          readinessProbe: {httpGet: {path: /ready, port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: server}
spec:
  selector: {app: server}
  ports: [{port: 8080}]
---
apiVersion: v1
kind: Pod
metadata:
  name: worker
  labels: {app: worker}
  annotations: {planeless.dev/native-sidecar: "%[1]v", planeless.dev/drain-seconds: "%[2]d"}
spec:
  restartPolicy: Never
  containers:
    - name: worker
      image: %[3]s
      args: [steady, -url, "http://server:8080/from-worker", -rate, "50", -duration, 5m, -after-term, 3s, -wait-ready, 30s]
`, native, drainSeconds, TestappImage, drainSeconds+3)
}

// Deleting a pod under steady load loses no request within drain-seconds,
// with native sidecars and with native-sidecar: false: neither the
// requests a deleted server pod was serving (a client pod calls the
// Service throughout), nor those a deleted pod's app still makes after
// SIGTERM (Envoy exits at once on SIGTERM; the preStop sleep keeps it).
func TestDeletingAPodUnderLoadLosesNoRequest(t *testing.T) {
	t.Parallel()
	c := cluster(t)
	for _, native := range []bool{true, false} {
		t.Run(fmt.Sprintf("native-sidecar=%v", native), func(t *testing.T) {
			t.Parallel()
			ns := "drain-native"
			if !native {
				ns = "drain-legacy"
			}
			namespace(t, c, ns, true)
			apply(t, c, ns, drainApps(native))
			servers := waitPodsReady(t, c, ns, "app=server", 2)
			waitPodsReady(t, c, ns, "app=worker", 1)
			for _, p := range servers {
				if got := p.Spec.InitContainers[len(p.Spec.InitContainers)-1].Name == "planeless-proxy"; got != native {
					t.Fatalf("pod %s: proxy as a native sidecar %v, want %v", p.Name, got, native)
				}
			}

			t.Run("a server pod", func(t *testing.T) {
				// 50 requests a second from a client pod through the Service;
				// one server pod is deleted 5 s in.
				const seconds = 5 + drainSeconds + 3 + 8
				client := fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: client, labels: {app: client}, annotations: {planeless.dev/native-sidecar: "%v"}}
spec:
  restartPolicy: Never
  containers:
    - name: client
      image: %s
      args: [steady, -url, "http://server:8080/from-client", -rate, "50", -duration, %ds, -wait-ready, 30s]
`, native, TestappImage, seconds)
				apply(t, c, ns, client)
				waitPodsReady(t, c, ns, "app=client", 1)
				time.Sleep(5 * time.Second)
				deleted, deletedAt := servers[0].Name, time.Now()
				if err := c.Client.CoreV1().Pods(ns).Delete(t.Context(), deleted, metav1.DeleteOptions{}); err != nil {
					t.Fatal(err)
				}
				waitFor(t, time.Duration(seconds+30)*time.Second, "the client's report", func() (bool, error) {
					p, err := c.Client.CoreV1().Pods(ns).Get(t.Context(), "client", metav1.GetOptions{})
					if err != nil {
						return false, err
					}
					for _, s := range p.Status.ContainerStatuses {
						if s.Name == "client" && s.State.Terminated != nil {
							return true, nil
						}
					}
					return false, nil
				})
				var rep loadReport
				decodeLast(t, logs(t, c, ns, "client", "client"), &rep)
				t.Logf("client through the deletion of %s: %d requests, %d failed %v", deleted, rep.Sent, rep.Failed, rep.Errors)
				if rep.OK < 40*seconds || rep.Failed != 0 {
					t.Errorf("the client lost %d of %d requests while %s (deleted at %s) went away: %v", rep.Failed, rep.Sent, deleted, deletedAt.Format(time.RFC3339Nano), rep.Errors)
					t.Logf("the client's sidecar logged:\n%s", failedRequests(logs(t, c, ns, "client", "planeless-proxy")))
				}
			})

			t.Run("a worker pod", func(t *testing.T) {
				// Follow the worker's log: the report comes as its app exits,
				// and the pod is gone soon after.
				report := followLog(t, c, ns, "worker", "worker")
				time.Sleep(2 * time.Second)
				if err := c.Client.CoreV1().Pods(ns).Delete(t.Context(), "worker", metav1.DeleteOptions{}); err != nil {
					t.Fatal(err)
				}
				var rep loadReport
				select {
				case line := <-report:
					decodeLast(t, line, &rep)
				case <-time.After(60 * time.Second):
					t.Fatal("no report from the worker within 60s of its deletion")
				}
				t.Logf("worker: %d requests, %d after SIGTERM, %d of them failed", rep.Sent, rep.AfterTerm, rep.FailedAfterTerm)
				if rep.AfterTerm < 100 || rep.FailedAfterTerm != 0 {
					t.Errorf("the deleted worker's app lost %d of the %d requests it made after SIGTERM: %v",
						rep.FailedAfterTerm, rep.AfterTerm, rep.Errors)
				}
			})
		})
	}
}

type loadReport struct {
	Sent, OK, Failed           int
	Errors                     []string
	AfterTerm, FailedAfterTerm int
}

// followLog streams a container's log and sends its last JSON line (the
// load report) once the container ends.
func followLog(t *testing.T, c *Cluster, ns, pod, container string) <-chan string {
	t.Helper()
	stream, err := c.Client.CoreV1().Pods(ns).GetLogs(pod, &corev1.PodLogOptions{Container: container, Follow: true}).Stream(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan string, 1)
	go func() {
		defer stream.Close()
		last := ""
		sc := bufio.NewScanner(stream)
		for sc.Scan() {
			if line := sc.Text(); strings.HasPrefix(line, "{") {
				last = line
			}
		}
		if last != "" {
			out <- last
		}
	}()
	t.Cleanup(func() { stream.Close() })
	return out
}

// failedRequests keeps the access log lines of requests not answered 200.
func failedRequests(log string) string {
	var b strings.Builder
	for line := range strings.Lines(log) {
		if strings.Contains(line, `"response_code"`) && !strings.Contains(line, `"response_code":200`) {
			b.WriteString(line)
		}
	}
	return b.String()
}
