package agent

import (
	"context"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/planeless/planeless/inject"
)

// repair deletes the pods of its node that cannot recover by themselves:
// created before the plugin was chained, their network has no rules, their
// planeless-validate check fails (so none of their containers runs) and
// the kubelet retries it in the same network forever. Deleted, their
// controller recreates them, now with the rules. Pods without a
// controller are left alone (deleting them would lose them) and logged.
type repair struct {
	client kubernetes.Interface
	node   string
	log    *slog.Logger
	// since is when the plugin was chained: pods the kubelet started
	// after it got their rules, and a failed check of theirs is another
	// problem, for their owner to see (deleting them would loop).
	since func() (time.Time, bool)
}

// run watches the pods of the node until ctx ends; every value on chained
// (the plugin was chained again) looks at all of them once more, as
// stranded pods wait minutes between their retries.
func (r *repair) run(ctx context.Context, chained <-chan struct{}) error {
	factory := informers.NewSharedInformerFactoryWithOptions(r.client, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", r.node).String()
	}))
	pods := factory.Core().V1().Pods().Informer()
	check := func(obj any) {
		if pod, ok := obj.(*corev1.Pod); ok {
			r.consider(ctx, pod)
		}
	}
	if _, err := pods.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    check,
		UpdateFunc: func(_, obj any) { check(obj) },
	}); err != nil {
		return err
	}
	factory.Start(ctx.Done())
	defer factory.Shutdown()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-chained:
			for _, obj := range pods.GetStore().List() {
				check(obj)
			}
		}
	}
}

func (r *repair) consider(ctx context.Context, pod *corev1.Pod) {
	since, chained := r.since()
	if !chained || !StrandedBefore(pod, since) {
		return
	}
	name := pod.Namespace + "/" + pod.Name
	if metav1.GetControllerOf(pod) == nil {
		r.log.Warn("pod created before the CNI plugin was in place has no controller to recreate it: delete it to recreate it with its rules", "pod", name)
		return
	}
	uid := pod.UID
	err := r.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
	if err != nil {
		r.log.Error("deleting a pod created before the CNI plugin was in place", "pod", name, "error", err)
		return
	}
	r.log.Info("deleted a pod created before the CNI plugin was in place, for its controller to recreate it", "pod", name)
}

// StrandedBefore reports whether pod is a CNI-mode pod whose
// planeless-validate check failed, started by the kubelet before since.
func StrandedBefore(pod *corev1.Pod, since time.Time) bool {
	// The start time has whole seconds: a pod started in the second the
	// plugin was chained may have got its rules.
	if pod.DeletionTimestamp != nil || pod.Status.StartTime == nil || !pod.Status.StartTime.Time.Before(since.Truncate(time.Second)) {
		return false
	}
	for _, s := range pod.Status.InitContainerStatuses {
		if s.Name != inject.ValidateName {
			continue
		}
		switch {
		case s.State.Terminated != nil:
			return s.State.Terminated.ExitCode != 0
		case s.State.Waiting != nil:
			// Waiting to be run again after a failure.
			last := s.LastTerminationState.Terminated
			return last != nil && last.ExitCode != 0
		}
		return false
	}
	return false
}
