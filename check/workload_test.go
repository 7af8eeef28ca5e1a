package check

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestRestartCommands(t *testing.T) {
	tests := map[string]struct {
		workload Workload
		want     string
	}{
		"a deployment is rolled": {
			Workload{Kind: "Deployment", Name: "web"}, "kubectl -n shop rollout restart deployment/web",
		},
		"a statefulset is rolled": {
			Workload{Kind: "StatefulSet", Name: "db"}, "kubectl -n shop rollout restart statefulset/db",
		},
		"a daemonset is rolled": {
			Workload{Kind: "DaemonSet", Name: "agent"}, "kubectl -n shop rollout restart daemonset/agent",
		},
		"a replicaset's pod is deleted for the replicaset to recreate": {
			Workload{Kind: "ReplicaSet", Name: "web-1"}, "kubectl -n shop delete pod p (its replicaset creates it again)",
		},
		"a cronjob's next job is injected": {
			Workload{Kind: "CronJob", Name: "report"}, "its next Job is injected as today; nothing to restart",
		},
		"a bare pod is recreated by its owner": {
			Workload{Kind: "Pod", Name: "p"}, "kubectl -n shop get pod p -o yaml | planeless uninject -f - | kubectl replace --force -f -",
		},
		"a template injected by planeless inject is injected again": {
			Workload{Kind: "Deployment", Name: "web", TemplateInjected: true},
			"its pod template was injected with planeless inject: inject the deployment's manifest again and apply it",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := restart("planeless", "shop", "p", tc.workload); got != tc.want {
				t.Errorf("restart = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRestartCommandsNameThePluginWhenCheckRunsAsOne(t *testing.T) {
	want := "kubectl -n shop get pod p -o yaml | kubectl planeless uninject -f - | kubectl replace --force -f -"
	if got := restart("kubectl planeless", "shop", "p", Workload{Kind: "Pod", Name: "p"}); got != want {
		t.Errorf("restart = %q, want %q", got, want)
	}
}

func TestLabelledAtIsTheLatestManagerSettingTheLabel(t *testing.T) {
	at := func(h int) *metav1.Time { return ptr.To(metav1.NewTime(now.Add(time.Duration(h) * time.Hour))) }
	entry := func(when *metav1.Time, fields string) metav1.ManagedFieldsEntry {
		return metav1.ManagedFieldsEntry{Time: when, FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(fields)}
	}
	fields := []metav1.ManagedFieldsEntry{
		entry(at(-5), `{"f:metadata":{"f:labels":{"f:kubernetes.io/metadata.name":{}}}}`),
		entry(at(-3), `{"f:metadata":{"f:labels":{"f:planeless.dev/inject":{}}}}`),
		entry(at(-1), `{"f:metadata":{"f:annotations":{"f:note":{}}}}`),
	}
	if got := labelledAt(fields, []string{"planeless.dev/inject"}); !got.Equal(at(-3).Time) {
		t.Errorf("labelled at %s, want %s", got, at(-3).Time)
	}
	if got := labelledAt(fields[:1], []string{"planeless.dev/inject"}); !got.IsZero() {
		t.Errorf("labelled at %s without an entry for the label, want zero", got)
	}
}
