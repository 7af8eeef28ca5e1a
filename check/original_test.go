package check

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/planeless/planeless/inject"
)

// Original is the pod to create again: planeless' parts and what the
// cluster added after admission are gone, and it is named as admitted.
func TestOriginal(t *testing.T) {
	tests := map[string]struct {
		name, generateName string
		wantGenerateName   string
	}{
		"a controller's pod keeps its generateName": {name: "web-7d9f8b-abcde", generateName: "web-7d9f8b-", wantGenerateName: "web-7d9f8b-"},
		"a named pod is named after itself":         {name: "cart", wantGenerateName: "cart-"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			before := pod("shop", tc.name, now)
			before.GenerateName = tc.generateName
			before.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
			before.Spec.Volumes = []corev1.Volume{{Name: "data"}}
			stored := injectedBy(t, inject.New(), before)
			stored.UID, stored.ResourceVersion = "uid", "42"
			stored.Spec.NodeName = "node-1"
			stored.Spec.Priority = ptr.To(int32(0))
			stored.Status.Phase = corev1.PodRunning
			token := corev1.Volume{Name: tokenVolumePrefix + "x2x7k", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
				Sources: []corev1.VolumeProjection{{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token"}}},
			}}}
			stored.Spec.Volumes = append(stored.Spec.Volumes, token)
			for i := range stored.Spec.Containers {
				stored.Spec.Containers[i].VolumeMounts = append(stored.Spec.Containers[i].VolumeMounts, corev1.VolumeMount{Name: token.Name, MountPath: "/var/run/secrets/kubernetes.io/serviceaccount"})
			}

			got, err := Original(stored)
			if err != nil {
				t.Fatal(err)
			}
			want := before.DeepCopy()
			want.Name, want.GenerateName, want.CreationTimestamp = "", tc.wantGenerateName, got.CreationTimestamp
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("original (-want +got):\n%s", diff)
			}
		})
	}
}
