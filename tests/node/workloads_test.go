package node

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const workloads = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  strategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: 0, maxSurge: 1}}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web, version: v1}}
    spec:
      containers:
        - name: web
          image: ` + TestappImage + `
          args: [rest, -listen, ":8080", -name, web]
          ports: [{name: http, containerPort: 8080}]
          readinessProbe: {httpGet: {path: /ready, port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 8080, targetPort: 8080}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 1
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db, version: v1}}
    spec:
      containers:
        - name: db
          image: ` + TestappImage + `
          args: [rest, -listen, ":8080", -name, db]
          ports: [{name: http, containerPort: 8080}]
          readinessProbe: {httpGet: {path: /ready, port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: db}
spec:
  clusterIP: None
  selector: {app: db}
  ports: [{name: http, port: 8080, targetPort: 8080}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: batch}
spec:
  backoffLimit: 0
  template:
    metadata: {labels: {app: batch}}
    spec:
      restartPolicy: Never
      containers:
        - name: batch
          image: ` + TestappImage + `
          # web may still be starting when the Job does: wait for it,
          # then every request of the run must succeed.
          args: [steady, -wait-ready, 60s, -url, "http://web:8080/from-job", -rate, "10", -duration, 2s]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: tick}
spec:
  schedule: "* * * * *"
  concurrencyPolicy: Forbid
  jobTemplate:
    spec:
      backoffLimit: 0
      template:
        metadata: {labels: {app: tick}}
        spec:
          restartPolicy: Never
          containers:
            - name: tick
              image: ` + TestappImage + `
              args: [steady, -wait-ready, 60s, -url, "http://db:8080/from-cron", -rate, "10", -duration, 2s]
`

// needsNetwork is a pod whose own init container calls a Service before
// the app starts: the native sidecar is up and ready before it.
const needsNetwork = `
apiVersion: v1
kind: Pod
metadata: {name: needs-network, labels: {app: needs-network}}
spec:
  initContainers:
    - name: fetch
      image: ` + TestappImage + `
      args: [steady, -url, "http://db:8080/from-init", -rate, "10", -duration, 1s]
  containers:
    - name: app
      image: ` + TestappImage + `
      args: [rest, -listen, ":8080", -name, needs-network]
`

// A Deployment (2 replicas, then a rolling update), a StatefulSet, a Job
// and a CronJob's Job in a labelled namespace are injected through the
// chart's webhook, become Ready or Complete (the Jobs finish although
// their native sidecar never exits by itself), and call each other by
// Service name through Envoy: the callers' sidecars count each request
// under its destination, the servers' under inbound.
func TestWorkloadsAreInjectedAndTalkThroughEnvoy(t *testing.T) {
	t.Parallel()
	c := cluster(t)
	const ns = "workloads"
	namespace(t, c, ns, true)
	apply(t, c, ns, workloads)

	webs := waitPodsReady(t, c, ns, "app=web", 2)
	dbs := waitPodsReady(t, c, ns, "app=db", 1)
	for _, p := range append(append([]corev1.Pod{}, webs...), dbs...) {
		if !injected(&p) {
			t.Fatalf("pod %s is not injected: %v", p.Name, p.Annotations)
		}
		if p.Spec.InitContainers[1].Name != "planeless-proxy" || p.Spec.InitContainers[1].RestartPolicy == nil {
			t.Errorf("pod %s: the proxy is not a native sidecar: %+v", p.Name, p.Spec.InitContainers)
		}
	}

	t.Run("they call each other by Service name through Envoy", func(t *testing.T) {
		web, db := &webs[0], &dbs[0]
		webBefore, dbBefore := stats(t, c, web), stats(t, c, db)
		const n = 5
		for i := range n {
			call(t, c, web.Status.PodIP, fmt.Sprintf("http://db:8080/from-web/%d", i), "db")
			call(t, c, db.Status.PodIP, fmt.Sprintf("http://web:8080/from-db/%d", i), "web")
		}
		// The StatefulSet's pod by its own stable name, too.
		call(t, c, web.Status.PodIP, "http://db-0.db:8080/by-pod-name", "db")
		webAfter, dbAfter := stats(t, c, web), stats(t, c, db)
		checks := []struct {
			what          string
			before, after interface {
				Sum(string, map[string]string) float64
			}
			match map[string]string
			want  float64
		}{
			{"web's requests to db:8080", webBefore, webAfter, map[string]string{"direction": "outbound", "destination": "db:8080", "response_code": "200"}, n},
			{"web's request to db-0.db:8080", webBefore, webAfter, map[string]string{"direction": "outbound", "destination": "db-0.db:8080", "response_code": "200"}, 1},
			{"db's requests to web:8080", dbBefore, dbAfter, map[string]string{"direction": "outbound", "destination": "web:8080", "response_code": "200"}, n},
		}
		for _, ck := range checks {
			if got := ck.after.Sum(requestsTotal, ck.match) - ck.before.Sum(requestsTotal, ck.match); got != ck.want {
				t.Errorf("%s: %s%v grew by %v, want %v", ck.what, requestsTotal, ck.match, got, ck.want)
			}
		}
		// db's sidecar answered web's n+1 requests: it names itself in
		// each answer, and web counts them under db's workload.
		answered := map[string]string{"direction": "outbound", "destination_workload": "db." + ns}
		if got := webAfter.Sum(requestsTotal, answered) - webBefore.Sum(requestsTotal, answered); got != n+1 {
			t.Errorf("web counts %v requests answered by db.%s, want %d", got, ns, n+1)
		}
	})

	t.Run("a Job's pod completes with its native sidecar", func(t *testing.T) {
		jobComplete(t, c, ns, "batch")
		checkLoadReport(t, c, ns, "app=batch", "batch")
	})

	t.Run("a user init container reaches a Service through the proxy", func(t *testing.T) {
		apply(t, c, ns, needsNetwork)
		p := waitPodsReady(t, c, ns, "app=needs-network", 1)[0]
		if !injected(&p) {
			t.Fatal("needs-network is not injected")
		}
		checkLoadReport(t, c, ns, "app=needs-network", "fetch")
	})

	t.Run("a rolling update replaces the Deployment's pods with injected ones", func(t *testing.T) {
		old := map[string]bool{}
		for _, p := range webs {
			old[p.Name] = true
		}
		kubectl(t, c, "-n", ns, "rollout", "restart", "deployment/web")
		kubectl(t, c, "-n", ns, "rollout", "status", "deployment/web", "--timeout=3m")
		waitFor(t, time.Minute, "the old web pods gone", func() (bool, error) {
			ps := pods(t, c, ns, "app=web")
			for _, p := range ps {
				if old[p.Name] {
					return false, nil
				}
			}
			return len(ps) == 2, nil
		})
		for _, p := range waitPodsReady(t, c, ns, "app=web", 2) {
			if !injected(&p) {
				t.Errorf("new pod %s is not injected", p.Name)
			}
			call(t, c, p.Status.PodIP, "http://db:8080/after-rollout", "db")
		}
	})

	t.Run("a CronJob's Job's pod completes", func(t *testing.T) {
		var job string
		waitFor(t, 90*time.Second, "a Job of the CronJob", func() (bool, error) {
			jobs, err := c.Client.BatchV1().Jobs(ns).List(t.Context(), metav1.ListOptions{})
			if err != nil {
				return false, err
			}
			for _, j := range jobs.Items {
				for _, o := range j.OwnerReferences {
					if o.Kind == "CronJob" && o.Name == "tick" {
						job = j.Name
						return true, nil
					}
				}
			}
			return false, nil
		})
		jobComplete(t, c, ns, job)
		checkLoadReport(t, c, ns, "batch.kubernetes.io/job-name="+job, "tick")
	})
}

const requestsTotal = "envoy_planeless_requests_total"

// call makes the pod at ip GET target (its app, through its own sidecar;
// testapp rest's /call) and checks the answer came from server.
func call(t *testing.T, c *Cluster, ip, target, server string) {
	t.Helper()
	status, body := get(t, c, fmt.Sprintf("http://%s:8080/call?url=%s", ip, url.QueryEscape(target)))
	if status != 200 || !strings.Contains(body, `\"server\":\"`+server+`\"`) {
		t.Fatalf("pod %s calling %s: %d %s", ip, target, status, body)
	}
}

// jobComplete waits until the Job succeeded, failing on its failure.
func jobComplete(t *testing.T, c *Cluster, ns, name string) {
	t.Helper()
	waitFor(t, 2*time.Minute, "Job "+name+" complete", func() (bool, error) {
		j, err := c.Client.BatchV1().Jobs(ns).Get(t.Context(), name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, cond := range j.Status.Conditions {
			if cond.Status != corev1.ConditionTrue {
				continue
			}
			switch cond.Type {
			case batchv1.JobComplete:
				return true, nil
			case batchv1.JobFailed:
				t.Fatalf("Job %s failed: %s", name, cond.Message)
			}
		}
		return false, nil
	})
}

// checkLoadReport reads the `testapp load` report of the container of the
// pod matching selector: every request answered 200, through the sidecar.
func checkLoadReport(t *testing.T, c *Cluster, ns, selector, container string) {
	t.Helper()
	ps := pods(t, c, ns, selector)
	if len(ps) == 0 {
		t.Fatalf("no pod %s", selector)
	}
	p := ps[0]
	if !injected(&p) {
		t.Errorf("pod %s is not injected", p.Name)
	}
	var rep struct{ Sent, OK, Failed int }
	decodeLast(t, logs(t, c, ns, p.Name, container), &rep)
	if rep.OK == 0 || rep.Failed != 0 {
		t.Errorf("pod %s: %d of %d requests failed", p.Name, rep.Failed, rep.Sent)
	}
}
