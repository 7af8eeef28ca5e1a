package inject

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	k8sjson "sigs.k8s.io/json"
)

// The pod decoder must read what the API server reads (its decoder is
// sigs.k8s.io/json's case-sensitive one), and refuse what it refuses, even
// in the parts it skips.
func TestDecodePodReadsWhatTheAPIServerReads(t *testing.T) {
	for _, tc := range []struct {
		name string
		raw  string
	}{
		{"a plain pod", `{"metadata":{"name":"a","annotations":{"x":"y"}},"spec":{"containers":[{"name":"app","ports":[{"containerPort":80}]}]}}`},
		{"members spelt in another case are not the fields", `{"Metadata":{"name":"a"},"spec":{"Containers":[{"name":"app"}],"containers":[{"name":"b","Ports":[{"containerPort":80}]}]}}`},
		{"a repeated member: the last one wins", `{"metadata":{"name":"a","name":"b"},"spec":{"containers":[{"name":"app"}],"containers":[{"name":"c"}]}}`},
		{"a repeated object member is merged as the API server merges it", `{"metadata":{"labels":{"a":"1"}},"metadata":{"name":"x"},"spec":{"containers":[{"name":"app"}]}}`},
		{"invalid UTF-8 is read, not refused", "{\"metadata\":{\"name\":\"a\",\"annotations\":{\"x\":\"\xff\"}},\"spec\":{\"containers\":[{\"name\":\"app\"}]}}"},
		{"env, mounts and volume sources are read as nothing", `{"spec":{"containers":[{"name":"app","env":[{"name":"A","value":"1"}],"envFrom":[{}],"volumeMounts":[{"name":"v","mountPath":"/v"}]}],"volumes":[{"name":"v","emptyDir":{}}]}}`},
		{"only the names of volumes that may be the injector's are read", `{"spec":{"containers":[{"name":"app"}],"volumes":[{"name":"kube-api-access-x1y2z"},{"name":"planeless-bootstrap"},{"name":"planeless"}]}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodePod([]byte(tc.raw))
			if err != nil {
				t.Fatalf("decodePod: %v", err)
			}
			var want corev1.Pod
			if err := k8sjson.UnmarshalCaseSensitivePreserveInts([]byte(tc.raw), &want); err != nil {
				t.Fatal(err)
			}
			for i := range want.Spec.Containers {
				c := &want.Spec.Containers[i]
				c.Env, c.EnvFrom, c.VolumeMounts = nil, nil, nil
			}
			for i, v := range want.Spec.Volumes {
				want.Spec.Volumes[i] = corev1.Volume{}
				if strings.HasPrefix(v.Name, "planeless-") {
					want.Spec.Volumes[i].Name = v.Name
				}
			}
			if diff := cmp.Diff(&want, got); diff != "" {
				t.Errorf("decodePod differs from the API server's decoder (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodePodRefusesMalformedJSONEvenWhereItSkips(t *testing.T) {
	for _, tc := range []struct {
		name string
		raw  string
	}{
		{"an unterminated env value", `{"spec":{"containers":[{"name":"app","env":[{"name":"A"}`},
		{"a bad token in env", `{"spec":{"containers":[{"name":"app","env":[{"name":A}]}]}}`},
		{"a bad escape in a volume source", `{"spec":{"volumes":[{"name":"v","hostPath":{"path":"\q"}}]}}`},
		{"trailing garbage", `{"spec":{}} x`},
		{"a string where an object belongs", `{"spec":"containers"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := decodePod([]byte(tc.raw)); err == nil {
				t.Errorf("decodePod(%s) = no error, want one", strings.TrimSpace(tc.raw))
			}
			var want corev1.Pod
			if err := k8sjson.UnmarshalCaseSensitivePreserveInts([]byte(tc.raw), &want); err == nil {
				t.Errorf("the API server's decoder reads %s: the test case is wrong", tc.raw)
			}
		})
	}
}
