package inject

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/planeless/planeless/iptables"
	"github.com/planeless/planeless/proxy"
)

func probedPod(probes ...func(*corev1.Container)) *corev1.Pod {
	c := corev1.Container{Name: "app", Image: "app", Ports: []corev1.ContainerPort{
		{Name: "http", ContainerPort: 8080},
		{Name: "grpc", ContainerPort: 9090},
	}}
	for _, set := range probes {
		set(&c)
	}
	pod := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{c}}}
	pod.Name, pod.Namespace = "p", "ns"
	return pod
}

func tcpProbe(port intstr.IntOrString) *corev1.Probe {
	return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: port}}}
}

func TestTCPProbesOfInterceptedPortsGoToProbePorts(t *testing.T) {
	tests := map[string]struct {
		probes       []func(*corev1.Container)
		wantPorts    map[string]intstr.IntOrString // probe -> port after injection
		wantRecorded []RewrittenProbe
		wantRules    []iptables.ProbePort
	}{
		"a TCP probe of an intercepted port by number": {
			probes:       []func(*corev1.Container){func(c *corev1.Container) { c.ReadinessProbe = tcpProbe(intstr.FromInt32(8080)) }},
			wantPorts:    map[string]intstr.IntOrString{"readiness": intstr.FromInt32(proxy.FirstProbePort)},
			wantRecorded: []RewrittenProbe{{Container: "app", Probe: "readiness", Port: intstr.FromInt32(8080)}},
			wantRules:    []iptables.ProbePort{{Port: proxy.FirstProbePort, Target: 8080}},
		},
		"probes of two ports by name get a probe port each, one per port": {
			probes: []func(*corev1.Container){
				func(c *corev1.Container) { c.LivenessProbe = tcpProbe(intstr.FromString("grpc")) },
				func(c *corev1.Container) { c.ReadinessProbe = tcpProbe(intstr.FromString("http")) },
				func(c *corev1.Container) { c.StartupProbe = tcpProbe(intstr.FromInt32(8080)) },
			},
			wantPorts: map[string]intstr.IntOrString{
				"liveness": intstr.FromInt32(proxy.FirstProbePort + 1), "readiness": intstr.FromInt32(proxy.FirstProbePort), "startup": intstr.FromInt32(proxy.FirstProbePort),
			},
			wantRecorded: []RewrittenProbe{
				{Container: "app", Probe: "liveness", Port: intstr.FromString("grpc")},
				{Container: "app", Probe: "readiness", Port: intstr.FromString("http")},
				{Container: "app", Probe: "startup", Port: intstr.FromInt32(8080)},
			},
			wantRules: []iptables.ProbePort{{Port: proxy.FirstProbePort, Target: 8080}, {Port: proxy.FirstProbePort + 1, Target: 9090}},
		},
		"a TCP probe of a port that is not intercepted is left alone": {
			probes:    []func(*corev1.Container){func(c *corev1.Container) { c.ReadinessProbe = tcpProbe(intstr.FromInt32(7777)) }},
			wantPorts: map[string]intstr.IntOrString{"readiness": intstr.FromInt32(7777)},
		},
		"a TCP probe of another host is left alone": {
			probes: []func(*corev1.Container){func(c *corev1.Container) {
				c.ReadinessProbe = tcpProbe(intstr.FromInt32(8080))
				c.ReadinessProbe.TCPSocket.Host = "db.example"
			}},
			wantPorts: map[string]intstr.IntOrString{"readiness": intstr.FromInt32(8080)},
		},
		"an HTTP probe is left alone: it goes through Envoy to the app": {
			probes: []func(*corev1.Container){func(c *corev1.Container) {
				c.LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(8080)}}}
			}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			pod := probedPod(tc.probes...)
			if _, err := New().Inject(pod); err != nil {
				t.Fatal(err)
			}
			app := find(pod.Spec.Containers, "app")
			got := map[string]intstr.IntOrString{}
			for kind, p := range map[string]*corev1.Probe{"liveness": app.LivenessProbe, "readiness": app.ReadinessProbe, "startup": app.StartupProbe} {
				if p != nil && p.TCPSocket != nil {
					got[kind] = p.TCPSocket.Port
				}
			}
			if diff := cmp.Diff(tc.wantPorts, got); len(tc.wantPorts) > 0 && diff != "" {
				t.Errorf("TCP probe ports (-want +got):\n%s", diff)
			}
			status, _, err := ReadStatus(pod)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantRecorded, status.Probes); diff != "" {
				t.Errorf("recorded probes (-want +got):\n%s", diff)
			}
			cfg := initConfig(t, pod)
			if diff := cmp.Diff(tc.wantRules, cfg.ProbePorts); diff != "" {
				t.Errorf("the init container's probe ports (-want +got):\n%s", diff)
			}
		})
	}
}

func TestProbesPlanelessCannotKeepFaithfulAreWarnedAbout(t *testing.T) {
	pod := probedPod(func(c *corev1.Container) {
		c.LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intstr.FromString("http"), Scheme: corev1.URISchemeHTTPS}}}
	})
	res, err := New().Inject(pod)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], `liveness probe of container "app" speaks HTTPS to port 8080, which is declared http`) {
		t.Errorf("warnings %q, want one about the HTTPS probe of an http port", res.Warnings)
	}
}

func TestAContainerPortOnAProbePortIsRefused(t *testing.T) {
	pod := probedPod(func(c *corev1.Container) {
		c.ReadinessProbe = tcpProbe(intstr.FromInt32(8080))
		c.Ports = append(c.Ports, corev1.ContainerPort{Name: "metrics", ContainerPort: proxy.FirstProbePort})
	})
	before := pod.DeepCopy()
	_, err := New().Inject(pod)
	if err == nil || !strings.Contains(err.Error(), "declares port 15100, which planeless needs for the TCP probe of port 8080") {
		t.Errorf("error %v, want the probe port collision named", err)
	}
	if diff := cmpPods(before, pod); diff != "" {
		t.Errorf("a refused pod changed:\n%s", diff)
	}
}

// initConfig parses the injected init container's arguments as
// `planeless init` would.
func initConfig(t *testing.T, pod *corev1.Pod) iptables.Config {
	t.Helper()
	c := find(pod.Spec.InitContainers, InitName)
	cfg := iptables.DefaultConfig()
	fs := pflag.NewFlagSet("init", pflag.ContinueOnError)
	cfg.BindFlags(fs)
	fs.String("copy-to", "", "a flag of planeless init besides the rules'")
	if err := fs.Parse(c.Args); err != nil {
		t.Fatalf("parsing the init container's args %q: %v", c.Args, err)
	}
	return cfg
}
