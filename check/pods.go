package check

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/planeless/planeless/inject"
	"github.com/planeless/planeless/proxy"
)

// renderers bounds the dry runs in flight.
const renderers = 8

// gatherPods reads the pods check reports: every injected pod, and every
// pod of a namespace the webhook selects; finished and terminating pods
// are left out. For each injected pod of a selected namespace it asks r
// for today's injection, once per distinct original pod (the pods of one
// ReplicaSet share it).
func gatherPods(ctx context.Context, client kubernetes.Interface, r Renderer, scope string, namespaces []Namespace) ([]Pod, error) {
	list, err := client.CoreV1().Pods(scope).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing pods: %w", err)
	}
	selected := map[string]bool{}
	for _, ns := range namespaces {
		selected[ns.Name] = ns.Selected
	}
	owners := &owners{client: client, cache: map[string]Workload{}}
	var pods []Pod
	for i := range list.Items {
		pod := &list.Items[i]
		if pod.DeletionTimestamp != nil || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
			continue
		}
		if !inject.Injected(pod) && !selected[pod.Namespace] {
			continue
		}
		pods = append(pods, Pod{Pod: pod, Workload: owners.of(ctx, pod)})
	}

	type answer struct {
		pod *corev1.Pod
		err string
	}
	originals := map[string]*corev1.Pod{}
	keys := make([]string, len(pods))
	for i, p := range pods {
		if _, injected := p.Pod.Annotations[proxy.AnnotationStatus]; !injected || !selected[p.Pod.Namespace] {
			continue
		}
		original, err := Original(p.Pod)
		if err != nil {
			pods[i].TodayError = err.Error()
			continue
		}
		key, _ := json.Marshal(original)
		keys[i] = string(key)
		originals[keys[i]] = original
	}
	answers := map[string]answer{}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(renderers)
	for key, original := range originals {
		g.Go(func() error {
			today, err := r.Render(gctx, original)
			a := answer{pod: today}
			if err != nil {
				a = answer{err: err.Error()}
			}
			mu.Lock()
			answers[key] = a
			mu.Unlock()
			return nil
		})
	}
	_ = g.Wait()
	for i := range pods {
		if a, ok := answers[keys[i]]; ok && keys[i] != "" {
			pods[i].Today, pods[i].TodayError = a.pod, a.err
		}
	}
	return pods, nil
}

// owners finds the workload of pods, reading each owner once.
type owners struct {
	client kubernetes.Interface
	cache  map[string]Workload
}

// of returns the workload a pod belongs to, up to the object a user
// restarts; an owner it cannot read is named from the reference alone.
func (o *owners) of(ctx context.Context, pod *corev1.Pod) Workload {
	ref := metav1.GetControllerOf(pod)
	if ref == nil {
		return Workload{Kind: "Pod", Name: pod.Name}
	}
	key := pod.Namespace + "/" + ref.Kind + "/" + ref.Name
	if w, ok := o.cache[key]; ok {
		return w
	}
	w := o.read(ctx, pod.Namespace, ref)
	o.cache[key] = w
	return w
}

func (o *owners) read(ctx context.Context, namespace string, ref *metav1.OwnerReference) Workload {
	w := Workload{Kind: ref.Kind, Name: ref.Name}
	get := metav1.GetOptions{}
	switch ref.Kind {
	case "ReplicaSet":
		rs, err := o.client.AppsV1().ReplicaSets(namespace).Get(ctx, ref.Name, get)
		if err != nil {
			return w
		}
		w.TemplateInjected = templateInjected(rs.Spec.Template)
		if d := metav1.GetControllerOf(rs); d != nil && d.Kind == "Deployment" {
			w.Kind, w.Name = d.Kind, d.Name
		}
	case "StatefulSet":
		if s, err := o.client.AppsV1().StatefulSets(namespace).Get(ctx, ref.Name, get); err == nil {
			w.TemplateInjected = templateInjected(s.Spec.Template)
		}
	case "DaemonSet":
		if d, err := o.client.AppsV1().DaemonSets(namespace).Get(ctx, ref.Name, get); err == nil {
			w.TemplateInjected = templateInjected(d.Spec.Template)
		}
	case "Job":
		job, err := o.client.BatchV1().Jobs(namespace).Get(ctx, ref.Name, get)
		if err != nil {
			return w
		}
		w.TemplateInjected = templateInjected(job.Spec.Template)
		if c := metav1.GetControllerOf(job); c != nil && c.Kind == "CronJob" {
			w.Kind, w.Name = c.Kind, c.Name
		}
	}
	return w
}

func templateInjected(t corev1.PodTemplateSpec) bool {
	_, ok := t.Annotations[proxy.AnnotationStatus]
	return ok
}
