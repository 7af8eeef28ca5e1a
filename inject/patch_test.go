package inject

import (
	"encoding/json"
	"testing"

	jsonpatchapply "github.com/evanphx/json-patch/v5"
	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
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
	ops, res, err := injector.Patch(raw, "ns")
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
