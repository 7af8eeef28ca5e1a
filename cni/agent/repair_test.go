package agent

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/planeless/planeless/inject"
)

func TestStrandedPodsAreThoseWhoseCheckFailedBeforeThePlugin(t *testing.T) {
	chained := time.Date(2026, 12, 2, 14, 0, 0, 500, time.UTC)
	before, after := metav1.NewTime(chained.Add(-time.Minute)), metav1.NewTime(chained.Add(time.Minute))
	failed := corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1}}
	backoff := corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}
	succeeded := corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0}}
	pod := func(start *metav1.Time, name string, state, last corev1.ContainerState) *corev1.Pod {
		return &corev1.Pod{Status: corev1.PodStatus{StartTime: start, InitContainerStatuses: []corev1.ContainerStatus{
			{Name: name, State: state, LastTerminationState: last},
		}}}
	}
	tests := map[string]struct {
		pod  *corev1.Pod
		want bool
	}{
		"its check failed, started before the plugin: stranded":            {pod(&before, inject.ValidateName, failed, corev1.ContainerState{}), true},
		"waiting to retry its failed check, started before: stranded":      {pod(&before, inject.ValidateName, backoff, failed), true},
		"its check failed, started after the plugin: another problem":      {pod(&after, inject.ValidateName, failed, corev1.ContainerState{}), false},
		"its check passed after failing: not stranded":                     {pod(&before, inject.ValidateName, succeeded, failed), false},
		"another init container failed: not planeless's business":          {pod(&before, "migrate", failed, corev1.ContainerState{}), false},
		"not started by the kubelet yet: nothing to say":                   {pod(nil, inject.ValidateName, failed, corev1.ContainerState{}), false},
		"started in the second the plugin was chained: may have its rules": {pod(ptrTime(metav1.NewTime(chained.Truncate(time.Second))), inject.ValidateName, failed, corev1.ContainerState{}), false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := StrandedBefore(tc.pod, chained); got != tc.want {
				t.Errorf("StrandedBefore = %v, want %v", got, tc.want)
			}
		})
	}
}

func ptrTime(t metav1.Time) *metav1.Time { return &t }
