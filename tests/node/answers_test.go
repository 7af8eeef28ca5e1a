package node

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Four replicas that are created (and so admitted) but never scheduled:
// no node has the label.
const replicas = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: many}
spec:
  replicas: 4
  selector: {matchLabels: {app: many}}
  template:
    metadata: {labels: {app: many, version: v1}}
    spec:
      nodeSelector: {planeless.dev/no-such-node: "true"}
      containers:
        - name: many
          image: ` + TestappImage + `
          args: [rest, -listen, ":8080"]
          ports: [{name: http, containerPort: 8080}]
`

// The pods of one ReplicaSet reach the webhook as the same bytes but for
// what the real API server writes for each before admission (their
// managedFields, the name of their service account token volume):
// a webhook pod answers every one after the first it sees from its answer
// cache, and says so in its log. Four replicas, two webhook pods: at
// least two of the four are answered from a cache.
func TestReplicasAreAnsweredFromTheAnswerCache(t *testing.T) {
	t.Parallel()
	c := cluster(t)
	const ns = "replicas"
	namespace(t, c, ns, true)
	apply(t, c, ns, replicas)
	waitFor(t, time.Minute, "four replicas created, all injected", func() (bool, error) {
		list, err := c.Client.CoreV1().Pods(ns).List(t.Context(), metav1.ListOptions{LabelSelector: "app=many"})
		if err != nil || len(list.Items) != 4 {
			return false, err
		}
		for _, p := range list.Items {
			if !injected(&p) {
				t.Fatalf("replica %s is not injected", p.Name)
			}
		}
		return true, nil
	})
	cached, answered := 0, 0
	for _, w := range pods(t, c, PlanelessNamespace, "app.kubernetes.io/name=planeless") {
		for line := range strings.Lines(logs(t, c, PlanelessNamespace, w.Name, "webhook")) {
			if !strings.Contains(line, `"msg":"admission"`) || !strings.Contains(line, `"namespace":"`+ns+`"`) || !strings.Contains(line, `"result":"injected"`) {
				continue
			}
			answered++
			if strings.Contains(line, `"cached":true`) {
				cached++
			}
		}
	}
	if answered != 4 || cached < 2 {
		t.Errorf("the webhook pods logged %d injections in %s, %d answered from the cache; want 4, at least 2", answered, ns, cached)
	}
}
