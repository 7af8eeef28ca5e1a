package dataplane

import (
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/planeless/planeless/bootstrap"
	"github.com/planeless/planeless/proxy"
	"github.com/planeless/planeless/tests/harness"
)

// TestLabelValuesAreWrittenLiterally runs a server whose app and version
// labels hold Envoy format operators (the API server refuses such label
// values, `planeless inject` and render read manifests it never saw): the
// real Envoy prints them as written in the access log, the request metrics
// and the workload header, instead of expanding them.
func TestLabelValuesAreWrittenLiterally(t *testing.T) {
	t.Parallel()
	s := startShop(t)
	const app, version = "%DOWNSTREAM_REMOTE_ADDRESS%", "100%"
	pod := harness.Inject(t, filepath.Join("testdata", "canary.yaml"))[0]
	pod.Name = "literal"
	// The bootstrap is rendered from the labels the injector read, with
	// the hostile values put in after any validation of the labels.
	spec, _, err := proxy.FromPod(uninjected(pod), proxy.DefaultDefaults())
	if err != nil {
		t.Fatal(err)
	}
	spec.Workload.App, spec.Workload.Version = app, version
	config, err := bootstrap.Render(spec)
	if err != nil {
		t.Fatal(err)
	}
	pod.Annotations[harness.BootstrapAnnotation] = string(config)
	literal := s.h.Start(t, pod, harness.PodOptions{Apps: map[string][]string{"web": {"rest", "-listen", ":8080", "-name", "literal"}}})

	got := seenBy(t, s.outsider.Get(t, "http://literal:8080/literal"))
	if want := app + "." + spec.Workload.Namespace; got.Server != "literal" {
		t.Fatalf("answered by %q", got.Server)
	} else if r := s.outsider.Get(t, "http://literal:8080/literal"); r.Headers.Get(bootstrap.WorkloadHeader) != want {
		t.Errorf("response header %s = %q, want %q", bootstrap.WorkloadHeader, r.Headers.Get(bootstrap.WorkloadHeader), want)
	}
	l := logLine(t, literal, func(l map[string]any) bool { return l["path"] == "/literal" })
	if l["app"] != app || l["version"] != version {
		t.Errorf("access log app %q version %q, want %q and %q", l["app"], l["version"], app, version)
	}
	m := literal.Stats(t).Select(bootstrap.RequestsMetric, map[string]string{"direction": "inbound"})
	if len(m) == 0 || m[0].Labels["app"] != app || m[0].Labels["version"] != version {
		t.Errorf("request metrics %v, want app %q and version %q", m, app, version)
	}
}

// uninjected is pod before injection: without the containers, volumes and
// annotations planeless added (good enough to read its Spec again).
func uninjected(pod *corev1.Pod) *corev1.Pod {
	p := pod.DeepCopy()
	p.Spec.InitContainers = nil
	var apps []corev1.Container
	for _, c := range p.Spec.Containers {
		if c.Name != harness.ProxyContainerName {
			apps = append(apps, c)
		}
	}
	p.Spec.Containers = apps
	for k := range p.Annotations {
		if strings.HasPrefix(k, proxy.Prefix) && k != proxy.Prefix+"ports" {
			delete(p.Annotations, k)
		}
	}
	return p
}
