package inject

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/planeless/planeless/proxy"
	"github.com/planeless/planeless/tests/golden"
	"github.com/planeless/planeless/tests/need"
)

// inputs are the manifests the golden tests inject: every file in
// testdata/ that is not itself a golden output, and the emojivoto corpus.
func inputs(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	in := map[string]string{}
	for _, f := range files {
		if strings.HasSuffix(f, ".injected.yaml") {
			continue
		}
		in[strings.TrimSuffix(filepath.Base(f), ".yaml")] = f
	}
	in["emojivoto"] = filepath.Join(need.RepoRoot(), "tests", "corpus", "emojivoto.yaml")
	return in
}

func injectFile(t *testing.T, path string) (out []byte, warnings []string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var buf bytes.Buffer
	if err := New().Manifests(f, &buf, "", func(w string) { warnings = append(warnings, w) }); err != nil {
		t.Fatalf("injecting %s: %v", path, err)
	}
	return buf.Bytes(), warnings
}

func TestGoldenInjection(t *testing.T) {
	for name, path := range inputs(t) {
		t.Run(name, func(t *testing.T) {
			out, warnings := injectFile(t, path)
			golden.Assert(t, filepath.Join("testdata", name+".injected.yaml"), out)
			golden.Assert(t, filepath.Join("testdata", name+".warnings.txt"), []byte(strings.Join(warnings, "\n")+"\n"))
		})
	}
}

func TestInjectingTwiceChangesNothing(t *testing.T) {
	for name := range inputs(t) {
		t.Run(name, func(t *testing.T) {
			once := filepath.Join("testdata", name+".injected.yaml")
			want, err := os.ReadFile(once)
			if err != nil {
				t.Fatal(err)
			}
			twice, _ := injectFile(t, once)
			if !bytes.Equal(want, twice) {
				t.Errorf("injecting %s again changed it", once)
			}
		})
	}
}

// Every injected pod of every golden keeps the security promises.
func TestInjectedPodsAreLeastPrivileged(t *testing.T) {
	for name, path := range inputs(t) {
		t.Run(name, func(t *testing.T) {
			out, _ := injectFile(t, path)
			for _, pod := range injectedPods(t, out) {
				checkLeastPrivilege(t, pod)
			}
		})
	}
}

func checkLeastPrivilege(t *testing.T, pod *corev1.Pod) {
	t.Helper()
	if !Injected(pod) {
		return
	}
	all := slices.Concat(pod.Spec.InitContainers, pod.Spec.Containers)
	for _, c := range all {
		sc := c.SecurityContext
		hasNetAdmin := sc != nil && sc.Capabilities != nil && slices.ContainsFunc(sc.Capabilities.Add, func(c corev1.Capability) bool {
			return c == "NET_ADMIN" || c == "NET_RAW"
		})
		if hasNetAdmin != (c.Name == InitName) {
			t.Errorf("container %s: NET_ADMIN/NET_RAW = %v; only %s may have them", c.Name, hasNetAdmin, InitName)
		}
		if sc != nil && sc.Privileged != nil && *sc.Privileged {
			t.Errorf("container %s is privileged", c.Name)
		}
	}
	initC, proxy := find(all, InitName), find(all, ProxyName)
	if initC == nil || proxy == nil {
		t.Fatalf("pod %s lacks %s or %s", pod.Name, InitName, ProxyName)
	}
	if sc := initC.SecurityContext; *sc.RunAsUser != 0 || *sc.RunAsNonRoot {
		t.Errorf("%s must say it runs as root: %+v", InitName, sc)
	}
	sc := proxy.SecurityContext
	switch {
	case *sc.RunAsUser == 0 || !*sc.RunAsNonRoot:
		t.Errorf("%s runs as root", ProxyName)
	case !*sc.ReadOnlyRootFilesystem:
		t.Errorf("%s has a writable root filesystem", ProxyName)
	case *sc.AllowPrivilegeEscalation:
		t.Errorf("%s may escalate privileges", ProxyName)
	case !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0:
		t.Errorf("%s keeps capabilities: %+v", ProxyName, sc.Capabilities)
	}
}

func TestPlacement(t *testing.T) {
	tests := map[string]struct {
		native, cni bool
		wantInit    []string
		wantMain    []string
	}{
		"native sidecar runs the rules and the proxy before the user's init containers": {
			native: true, wantInit: []string{InitName, ProxyName, "migrate"}, wantMain: []string{"app"},
		},
		"a regular sidecar comes first and the rules come after the user's init containers": {
			native: false, wantInit: []string{"migrate", InitName}, wantMain: []string{ProxyName, "app"},
		},
		"in CNI mode the check comes before the proxy and the user's init containers": {
			native: true, cni: true, wantInit: []string{ValidateName, ProxyName, "migrate"}, wantMain: []string{"app"},
		},
		"in CNI mode without native sidecars the check still comes first: the rules are there from the start": {
			native: false, cni: true, wantInit: []string{ValidateName, "migrate"}, wantMain: []string{ProxyName, "app"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			pod := &corev1.Pod{Spec: corev1.PodSpec{
				InitContainers: []corev1.Container{{Name: "migrate", Image: "m"}},
				Containers:     []corev1.Container{{Name: "app", Image: "a", Ports: []corev1.ContainerPort{{ContainerPort: 80}}}},
			}}
			pod.Name, pod.Namespace = "p", "ns"
			i := New()
			i.Defaults.NativeSidecar = tc.native
			i.Defaults.CNI = tc.cni
			if _, err := i.Inject(pod); err != nil {
				t.Fatal(err)
			}
			if got := names(pod.Spec.InitContainers); !slices.Equal(got, tc.wantInit) {
				t.Errorf("init containers = %v, want %v", got, tc.wantInit)
			}
			if got := names(pod.Spec.Containers); !slices.Equal(got, tc.wantMain) {
				t.Errorf("containers = %v, want %v", got, tc.wantMain)
			}
			proxy := find(slices.Concat(pod.Spec.InitContainers, pod.Spec.Containers), ProxyName)
			if isNative := proxy.RestartPolicy != nil && *proxy.RestartPolicy == corev1.ContainerRestartPolicyAlways; isNative != tc.native {
				t.Errorf("restartPolicy Always = %v, want %v", isNative, tc.native)
			}
			// The kubelet starts the next container when the native
			// sidecar's postStart hook returns: it must wait for Envoy.
			var postStart []string
			if proxy.Lifecycle != nil && proxy.Lifecycle.PostStart != nil && proxy.Lifecycle.PostStart.Exec != nil {
				postStart = proxy.Lifecycle.PostStart.Exec.Command
			}
			if wantWait := tc.native; wantWait != (len(postStart) > 1 && postStart[0] == ProxyHelper && postStart[1] == "wait") {
				t.Errorf("postStart = %q; want planeless wait: %v", postStart, wantWait)
			}
			if proxy.StartupProbe != nil {
				t.Errorf("startup probe %+v: it would hold the application back until its next tick", proxy.StartupProbe)
			}
		})
	}
}

func TestPodsLeftAlone(t *testing.T) {
	tests := map[string]struct {
		pod  *corev1.Pod
		want string
	}{
		"host network": {
			pod:  &corev1.Pod{Spec: corev1.PodSpec{HostNetwork: true, Containers: []corev1.Container{{Name: "a"}}}},
			want: SkipHostNetwork,
		},
		"opted out": {
			pod:  withAnnotations(map[string]string{proxy.AnnotationInject: "false"}),
			want: SkipOptedOut,
		},
		"already injected": {
			pod:  withAnnotations(map[string]string{proxy.AnnotationStatus: "{}"}),
			want: SkipInjected,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			before := tc.pod.DeepCopy()
			res, err := New().Inject(tc.pod)
			if err != nil {
				t.Fatal(err)
			}
			if res.Skipped != tc.want {
				t.Errorf("skipped = %q, want %q", res.Skipped, tc.want)
			}
			if diff := cmpPods(before, tc.pod); diff != "" {
				t.Errorf("pod changed: %s", diff)
			}
		})
	}
}

func TestInvalidPodsAreRefusedUnchanged(t *testing.T) {
	pod := withAnnotations(map[string]string{proxy.Prefix + "ports": "8080:quic"})
	before := pod.DeepCopy()
	_, err := New().Inject(pod)
	if err == nil || !strings.Contains(err.Error(), `invalid value "8080:quic" for annotation planeless.dev/ports`) {
		t.Fatalf("error = %v", err)
	}
	if diff := cmpPods(before, pod); diff != "" {
		t.Errorf("pod changed: %s", diff)
	}
}

func TestManifestsRefuseInvalidAnnotationsAndWriteNothing(t *testing.T) {
	in := `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    metadata:
      annotations: {planeless.dev/ports: "80800:http"}
    spec:
      containers: [{name: web, image: web}]
`
	var out bytes.Buffer
	err := New().Manifests(strings.NewReader(in), &out, "", func(string) {})
	if err == nil || !strings.Contains(err.Error(), `Deployment web: invalid value "80800:http" for annotation planeless.dev/ports: port 80800 is out of range`) {
		t.Fatalf("error = %v", err)
	}
	if out.Len() != 0 {
		t.Errorf("wrote %d bytes despite the error", out.Len())
	}
}

func TestManifestsKeepOtherDocumentsByteForByte(t *testing.T) {
	out, _ := injectFile(t, "testdata/workloads.yaml")
	in, err := os.ReadFile("testdata/workloads.yaml")
	if err != nil {
		t.Fatal(err)
	}
	configMap := string(in[:bytes.Index(in, []byte("\n---"))+1])
	if !strings.HasPrefix(string(out), configMap) {
		t.Errorf("the ConfigMap did not pass through as it was; got:\n%s", out[:min(len(out), 300)])
	}
	hostPod := string(in[bytes.LastIndex(in, []byte("---\n"))+4:])
	if !strings.HasSuffix(string(out), hostPod) {
		t.Errorf("the host-network pod did not pass through as it was")
	}
}

func injectedPods(t *testing.T, manifests []byte) []*corev1.Pod {
	t.Helper()
	var pods []*corev1.Pod
	for _, doc := range strings.Split(string(manifests), "\n---\n") {
		var obj struct {
			Kind  string           `json:"kind"`
			Items []map[string]any `json:"items"`
		}
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			t.Fatal(err)
		}
		docs := []string{doc}
		if obj.Kind == "List" {
			docs = nil
			for _, item := range obj.Items {
				b, _ := yaml.Marshal(item)
				docs = append(docs, string(b))
			}
		}
		for _, d := range docs {
			if pod := podOfYAML(t, d); pod != nil {
				pods = append(pods, pod)
			}
		}
	}
	return pods
}

// The bootstrap no longer grows with the ports (one inbound chain per
// protocol): a pod intercepting as many ports as an annotation may list is
// injected, and its bootstrap is no larger than with one.
func TestAsManyPortsAsAllowedFit(t *testing.T) {
	ports := make([]string, 0, proxy.MaxPorts)
	for p := 10000; p < 10000+proxy.MaxPorts; p++ {
		ports = append(ports, strconv.Itoa(p))
	}
	size := func(ports []string) int {
		t.Helper()
		pod := withAnnotations(map[string]string{proxy.Prefix + "ports": strings.Join(ports, ",")})
		if _, err := New().Inject(pod); err != nil {
			t.Fatalf("%d ports: %v", len(ports), err)
		}
		return len(pod.Annotations[proxy.AnnotationBootstrap])
	}
	if one, all := size(ports[:1]), size(ports); all != one {
		t.Errorf("the bootstrap is %d bytes for %d ports, %d for one", all, len(ports), one)
	}
}
