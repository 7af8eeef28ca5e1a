package inject

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/planeless/planeless/proxy"
	"github.com/planeless/planeless/tests/golden"
)

// knownDifferences are the lines inject|uninject does not give back, per
// input, and why. Each one is asserted, so that fixing its cause fails the
// test until the entry is removed.
var knownDifferences = map[string]string{}

func uninjectBytes(t *testing.T, in []byte) ([]byte, int) {
	t.Helper()
	var out bytes.Buffer
	n, err := UninjectManifests(bytes.NewReader(in), &out)
	if err != nil {
		t.Fatalf("uninject: %v", err)
	}
	return out.Bytes(), n
}

// `planeless inject | planeless uninject` gives back every corpus manifest
// and every golden input byte for byte: comments, key order, quoting, the
// objects inject left alone.
func TestUninjectGivesBackWhatInjectWasGiven(t *testing.T) {
	for name, path := range inputs(t) {
		t.Run(name, func(t *testing.T) {
			in, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			injected, _ := injectFile(t, path)
			out, n := uninjectBytes(t, injected)
			if n == 0 {
				t.Fatal("uninject found nothing injected")
			}
			assertRoundTrip(t, name, in, out)
		})
	}
}

// A pod injected before the status recorded its annotations (planeless
// 0.1.0 as first released) is uninjected as exactly: the annotations it
// added are worked out from what it always adds.
func TestUninjectUndoesStatusesWithoutTheirAnnotations(t *testing.T) {
	recorded := regexp.MustCompile(`,\\?"annotations\\?":\[[^\]]*\]`)
	for name, path := range inputs(t) {
		t.Run(name, func(t *testing.T) {
			in, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			injected, _ := injectFile(t, path)
			legacy := recorded.ReplaceAll(injected, nil)
			if bytes.Equal(legacy, injected) {
				t.Fatal("found no recorded annotations to drop")
			}
			out, _ := uninjectBytes(t, legacy)
			assertRoundTrip(t, name, in, out)
		})
	}
}

func assertRoundTrip(t *testing.T, name string, in, out []byte) {
	t.Helper()
	want, known := knownDifferences[name]
	if !known {
		if diff := cmp.Diff(string(in), string(out)); diff != "" {
			t.Errorf("inject|uninject changed the input (-in +out):\n%s", diff)
		}
		return
	}
	var added strings.Builder
	inLines := map[string]int{}
	for _, l := range strings.SplitAfter(string(in), "\n") {
		inLines[l]++
	}
	for _, l := range strings.SplitAfter(string(out), "\n") {
		if inLines[l] > 0 {
			inLines[l]--
			continue
		}
		added.WriteString("+" + l)
	}
	if got := added.String(); got != want {
		t.Errorf("inject|uninject added %q, want exactly the known %q", got, want)
	}
	for l, n := range inLines {
		if n > 0 && l != "" {
			t.Errorf("inject|uninject lost the line %q", l)
		}
	}
}

// What a cluster stores (defaulted fields, a status, a generated name)
// uninjects to the pod without planeless' parts; the golden shows it.
func TestUninjectStoredPod(t *testing.T) {
	in, err := os.ReadFile("testdata/uninject/stored.pod.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out, n := uninjectBytes(t, in)
	if n != 1 {
		t.Fatalf("uninjected %d objects, want 1", n)
	}
	golden.Assert(t, filepath.Join("testdata", "uninject", "stored.pod.uninjected.yaml"), out)
	for _, gone := range []string{InitName, ProxyName, BootstrapVolume, XtablesVolume, proxy.AnnotationStatus, proxy.AnnotationBootstrap, "prometheus.io/"} {
		if bytes.Contains(out, []byte(gone)) {
			t.Errorf("%s is still there", gone)
		}
	}
}

func TestUninjectLeavesObjectsPlanelessDidNotInjectAlone(t *testing.T) {
	for _, path := range []string{"testdata/rest.pod.yaml", "testdata/workloads.yaml", "testdata/uninject/stored.pod.uninjected.yaml"} {
		t.Run(path, func(t *testing.T) {
			in, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			out, n := uninjectBytes(t, in)
			if n != 0 || !bytes.Equal(in, out) {
				t.Errorf("uninjected %d objects of an input with none; output differs: %v", n, !bytes.Equal(in, out))
			}
		})
	}
}

// Only the objects planeless injected change; a stream mixing them with
// others keeps the others byte for byte.
func TestUninjectChangesOnlyInjectedObjects(t *testing.T) {
	plain, err := os.ReadFile("testdata/rest.pod.yaml")
	if err != nil {
		t.Fatal(err)
	}
	injected, _ := injectFile(t, "testdata/restricted.pod.yaml")
	restricted, err := os.ReadFile("testdata/restricted.pod.yaml")
	if err != nil {
		t.Fatal(err)
	}
	in := string(plain) + "---\n" + string(injected)
	out, n := uninjectBytes(t, []byte(in))
	if n != 1 {
		t.Errorf("uninjected %d objects, want 1", n)
	}
	if want := string(plain) + "---\n" + string(restricted); string(out) != want {
		t.Errorf("output differs from the two inputs:\n%s", cmp.Diff(want, string(out)))
	}
}

func TestUninjectRefusesWhatPlanelessDidNotInjectNamingTheObjectAndWhy(t *testing.T) {
	injected, _ := injectFile(t, "testdata/rest.pod.yaml")
	status := regexp.MustCompile(`(?m)^    planeless.dev/status: .*\n`)
	tests := map[string]struct {
		in   string
		want string
	}{
		"a proxy container without a status annotation": {
			in:   status.ReplaceAllString(string(injected), ""),
			want: "Pod catalog: has init container planeless-init but no planeless.dev/status annotation: planeless did not inject it",
		},
		"a status listing a container the pod lacks": {
			in:   strings.Replace(string(injected), "name: planeless-proxy", "name: someone-elses-proxy", 1),
			want: "Pod catalog: its planeless.dev/status lists the init container planeless-proxy, which is not there: it was changed after injection",
		},
		"a status recording something this version cannot undo": {
			in:   strings.Replace(string(injected), `{"version":"0.1.0",`, `{"version":"9.0.0","sidecars":["catalog"],`, 1),
			want: `Pod catalog: planeless.dev/status records "sidecars", which planeless 0.1.0 cannot undo; use the planeless version that injected it`,
		},
		"a status that is not planeless' JSON": {
			in: `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    metadata:
      annotations: {planeless.dev/status: injected}
    spec:
      containers: [{name: web, image: web}]
`,
			want: `Deployment web: planeless.dev/status is not what planeless writes ("injected")`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			_, err := UninjectManifests(strings.NewReader(tc.in), &out)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.want)
			}
			if out.Len() != 0 {
				t.Errorf("wrote %d bytes despite the error", out.Len())
			}
		})
	}
}

// Uninject on a typed pod (what `check` uses) restores the pod as it was
// before Inject, for regular and native sidecars.
func TestUninjectRestoresTheTypedPod(t *testing.T) {
	for _, native := range []bool{true, false} {
		pod := withAnnotations(map[string]string{"team": "shop"})
		pod.Spec.InitContainers = []corev1.Container{{Name: "migrate", Image: "m"}}
		pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: "worker", Image: "w"})
		pod.Spec.Volumes = []corev1.Volume{{Name: "data"}}
		before := pod.DeepCopy()
		i := New()
		i.Defaults.NativeSidecar = native
		if _, err := i.Inject(pod); err != nil {
			t.Fatal(err)
		}
		changed, err := Uninject(pod)
		if err != nil || !changed {
			t.Fatalf("native %v: uninject = %v, %v", native, changed, err)
		}
		if diff := cmpPods(before, pod); diff != "" {
			t.Errorf("native %v: uninjected pod differs (-before +after):\n%s", native, diff)
		}
	}
}

// The status records every annotation inject added, and only those.
func TestStatusRecordsTheAnnotationsInjectAdded(t *testing.T) {
	tests := map[string]struct {
		annotations map[string]string
		native      bool
		want        []string
	}{
		"a pod without annotations gets the bootstrap and the scrape annotations": {
			native: true,
			want:   []string{proxy.AnnotationBootstrap, annotationPath, annotationPort, annotationScrape},
		},
		"a pod with its own scrape annotation keeps it and it is not recorded": {
			annotations: map[string]string{annotationScrape: "false"},
			native:      true,
			want:        []string{proxy.AnnotationBootstrap},
		},
		"a regular sidecar also sets the default container": {
			want: []string{annotationDefaultContainer, proxy.AnnotationBootstrap, annotationPath, annotationPort, annotationScrape},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			pod := withAnnotations(tc.annotations)
			i := New()
			i.Defaults.NativeSidecar = tc.native
			if _, err := i.Inject(pod); err != nil {
				t.Fatal(err)
			}
			var s Status
			if err := json.Unmarshal([]byte(pod.Annotations[proxy.AnnotationStatus]), &s); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, s.Annotations); diff != "" {
				t.Errorf("recorded annotations (-want +got):\n%s", diff)
			}
		})
	}
}
