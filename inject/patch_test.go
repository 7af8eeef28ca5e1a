package inject

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	jsonpatchapply "github.com/evanphx/json-patch/v5"
	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The injector inserts its containers before the user's, so the patch's
// diff sees the user's first init container's fields at the proxy's index:
// the user's readOnly (or env, or workingDir) must not stay on planeless's
// containers. Found on the real node (tests/node): the init container's
// /run mount came out read-only, and iptables-legacy could not lock.
func TestPatchOfAPodWithUserInitContainersGivesTheInjectedPod(t *testing.T) {
	raw := []byte(`{"metadata":{"name":"p","namespace":"ns"},"spec":{
		"initContainers":[{"name":"fetch","image":"i","workingDir":"/w","env":[{"name":"A","value":"1"}],
			"volumeMounts":[{"name":"token","mountPath":"/var/run/secrets/kubernetes.io/serviceaccount","readOnly":true}]}],
		"containers":[{"name":"app","image":"i"}]}}`)
	injector := New()
	ops, res, err := injector.Patch(t.Context(), raw, "ns")
	if err != nil || res.Skipped != "" {
		t.Fatalf("patch: %v %q", err, res.Skipped)
	}
	opsJSON, err := json.Marshal(ops)
	if err != nil {
		t.Fatal(err)
	}
	patch, err := jsonpatchapply.DecodePatch(opsJSON)
	if err != nil {
		t.Fatal(err)
	}
	patched, err := patch.Apply(raw)
	if err != nil {
		t.Fatal(err)
	}
	var got, want corev1.Pod
	if err := json.Unmarshal(patched, &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	if _, err := injector.Inject(&want); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want.Spec.InitContainers, got.Spec.InitContainers); diff != "" {
		t.Errorf("the patched pod's init containers (+) are not the injected ones (-):\n%s", diff)
	}
}

// The proxy's preStop hook drains Envoy and keeps it serving for
// drain-seconds, within the pod's grace period; a drain the kubelet would
// cut short is a warning.
func TestDrainSecondsBecomeThePreStopDrain(t *testing.T) {
	pod := func(drain string, grace *int64) *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", Annotations: map[string]string{"planeless.dev/drain-seconds": drain}},
			Spec:       corev1.PodSpec{TerminationGracePeriodSeconds: grace, Containers: []corev1.Container{{Name: "app", Image: "i"}}},
		}
	}
	ten := int64(10)
	for name, tc := range map[string]struct {
		pod       *corev1.Pod
		sleep     int64 // 0: no preStop
		warnGrace bool
	}{
		"the default 5 s":             {pod("5", nil), 5, false},
		"0 s: no hook":                {pod("0", nil), 0, false},
		"45 s past the default grace": {pod("45", nil), 45, true},
		"10 s in a 10 s grace period": {pod("10", &ten), 10, true},
	} {
		t.Run(name, func(t *testing.T) {
			res, err := New().Inject(tc.pod)
			if err != nil {
				t.Fatal(err)
			}
			var proxyC *corev1.Container
			for i := range tc.pod.Spec.InitContainers {
				if tc.pod.Spec.InitContainers[i].Name == ProxyName {
					proxyC = &tc.pod.Spec.InitContainers[i]
				}
			}
			var got []string
			if l := proxyC.Lifecycle; l != nil && l.PreStop != nil && l.PreStop.Exec != nil {
				got = l.PreStop.Exec.Command
			}
			var want []string
			if tc.sleep > 0 {
				want = []string{ProxyHelper, "drain", "--admin-socket=/run/planeless-admin/admin.sock", fmt.Sprintf("--seconds=%d", tc.sleep)}
			}
			if !slices.Equal(got, want) {
				t.Errorf("preStop %q, want %q", got, want)
			}
			warned := false
			for _, w := range res.Warnings {
				warned = warned || strings.Contains(w, "terminationGracePeriodSeconds")
			}
			if warned != tc.warnGrace {
				t.Errorf("grace warning %v, want %v: %q", warned, tc.warnGrace, res.Warnings)
			}
		})
	}
}
