package check

import (
	"fmt"
	"strings"
)

// String names the workload as kubectl does: deployment/web.
func (w Workload) String() string { return strings.ToLower(w.Kind) + "/" + w.Name }

// restart returns what recreates the pods of a workload, so that the
// webhook injects them as it would today.
func restart(planeless, namespace, pod string, w Workload) string {
	switch w.Kind {
	case "Deployment", "StatefulSet", "DaemonSet":
		if w.TemplateInjected {
			return fmt.Sprintf("its pod template was injected with planeless inject: inject the %s's manifest again and apply it", strings.ToLower(w.Kind))
		}
		return fmt.Sprintf("kubectl -n %s rollout restart %s", namespace, w)
	case "ReplicaSet", "Job":
		if w.TemplateInjected {
			return fmt.Sprintf("its pod template was injected with planeless inject: inject the %s's manifest again and apply it", strings.ToLower(w.Kind))
		}
		return fmt.Sprintf("kubectl -n %s delete pod %s (its %s creates it again)", namespace, pod, strings.ToLower(w.Kind))
	case "CronJob":
		return "its next Job is injected as today; nothing to restart"
	}
	// Created again from itself, less planeless, for the webhook to inject.
	return fmt.Sprintf("kubectl -n %s get pod %s -o yaml | %s uninject -f - | kubectl replace --force -f -", namespace, pod, planeless)
}
