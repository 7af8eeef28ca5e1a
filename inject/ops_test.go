package inject

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The patch holds one operation per change injection makes, at the place
// of the change: nothing of the pod is replaced wholesale, whatever its
// size.
func TestPatchTouchesOnlyWhatInjectionChanges(t *testing.T) {
	tests := map[string]struct {
		raw  string
		want []string // op path
	}{
		"a pod with annotations and init containers of its own": {
			raw: `{"metadata":{"name":"p","annotations":{"a":"b"}},"spec":{
				"initContainers":[{"name":"migrate","image":"m"}],
				"containers":[{"name":"app","image":"a","ports":[{"containerPort":80}],"env":[{"name":"E","value":"v"}]}],
				"volumes":[{"name":"data","emptyDir":{}}]}}`,
			want: []string{
				"add /metadata/annotations/planeless.dev~1bootstrap", "add /metadata/annotations/planeless.dev~1status",
				"add /metadata/annotations/prometheus.io~1path", "add /metadata/annotations/prometheus.io~1port", "add /metadata/annotations/prometheus.io~1scrape",
				"add /spec/initContainers/0", "add /spec/initContainers/1",
				"add /spec/volumes/1", "add /spec/volumes/2", "add /spec/volumes/3", "add /spec/volumes/4",
			},
		},
		"a pod without annotations, init containers or volumes gets them whole": {
			raw:  `{"metadata":{"name":"p"},"spec":{"containers":[{"name":"app","image":"a","ports":[{"containerPort":80}]}]}}`,
			want: []string{"add /metadata/annotations", "add /spec/initContainers", "add /spec/volumes"},
		},
		"a pod without metadata gets its annotations in a new one": {
			raw:  `{"spec":{"containers":[{"name":"app","image":"a","ports":[{"containerPort":80}]}]}}`,
			want: []string{"add /metadata", "add /spec/initContainers", "add /spec/volumes"},
		},
		"a TCP probe of an intercepted port is pointed at its probe port, nothing else of the container changes": {
			raw: `{"metadata":{"name":"p"},"spec":{"containers":[
				{"name":"side","image":"s"},
				{"name":"app","image":"a","ports":[{"containerPort":80}],"livenessProbe":{"tcpSocket":{"port":80},"periodSeconds":3}}]}}`,
			want: []string{"add /metadata/annotations", "replace /spec/containers/1/livenessProbe/tcpSocket/port", "add /spec/initContainers", "add /spec/volumes"},
		},
		"without native sidecars the proxy goes first among the containers and the rules last among the init containers": {
			raw: `{"metadata":{"name":"p","annotations":{"planeless.dev/native-sidecar":"false"}},"spec":{
				"initContainers":[{"name":"migrate","image":"m"}],
				"containers":[{"name":"app","image":"a","ports":[{"containerPort":80}]}]}}`,
			want: []string{
				"add /metadata/annotations/kubectl.kubernetes.io~1default-container",
				"add /metadata/annotations/planeless.dev~1bootstrap", "add /metadata/annotations/planeless.dev~1status",
				"add /metadata/annotations/prometheus.io~1path", "add /metadata/annotations/prometheus.io~1port", "add /metadata/annotations/prometheus.io~1scrape",
				"add /spec/initContainers/1", "add /spec/containers/0", "add /spec/volumes",
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ops, res, err := New().Patch(t.Context(), []byte(tc.raw), "n")
			if err != nil || res.Skipped != "" {
				t.Fatalf("not injected: %v %s", err, res.Skipped)
			}
			var got []string
			for _, op := range ops {
				got = append(got, op.Operation+" "+op.Path)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("operations (-want +got):\n%s", diff)
			}
		})
	}
}
