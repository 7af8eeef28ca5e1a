package cni

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/containernetworking/cni/pkg/skel"
	corev1 "k8s.io/api/core/v1"

	"github.com/planeless/planeless/inject"
	"github.com/planeless/planeless/iptables"
	_ "github.com/planeless/planeless/tests/golden"
	"github.com/planeless/planeless/tests/pods"
)

const prevResult = `{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","sandbox":"/var/run/netns/x"}],"ips":[{"address":"10.244.0.7/24","interface":0}]}`

func stdin(extra string) []byte {
	return []byte(`{"cniVersion":"1.0.0","name":"k8s","type":"planeless-cni","kubeconfig":"/etc/cni/net.d/planeless-cni/kubeconfig","excludeNamespaces":["kube-system"]` + extra + `}`)
}

var chained = stdin(`,"prevResult":` + prevResult)

// injected returns the pod as the webhook gives it in CNI mode (cni) or
// init mode.
func injected(t *testing.T, cni bool) *corev1.Pod {
	t.Helper()
	pod := pods.New("web-1", pods.Namespace("shop"), pods.Annotations(map[string]string{"planeless.dev/ports": "8080"}))
	pod.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 8080}}
	i := inject.New()
	i.Defaults.CNI = cni
	if _, err := i.Inject(pod); err != nil {
		t.Fatal(err)
	}
	return pod
}

// fakePlugin records what the plugin read and installed.
type fakePlugin struct {
	*Plugin
	out       bytes.Buffer
	read      []string
	installed []string // netns of each Install
	config    iptables.Config
	verifyErr error
}

func newFake(pod *corev1.Pod, getErr error) *fakePlugin {
	f := &fakePlugin{}
	f.Plugin = &Plugin{
		GetPod: func(_ context.Context, _, namespace, name string) (*corev1.Pod, error) {
			f.read = append(f.read, namespace+"/"+name)
			return pod, getErr
		},
		Install: func(_ context.Context, netns string, c iptables.Config) error {
			f.installed = append(f.installed, netns)
			f.config = c
			return nil
		},
		Verify: func(context.Context, string, iptables.Config) error { return f.verifyErr },
		Stdout: &f.out,
	}
	return f
}

func args(namespace, name string, data []byte) *skel.CmdArgs {
	a := "IgnoreUnknown=1;K8S_POD_INFRA_CONTAINER_ID=abc"
	if name != "" {
		a += ";K8S_POD_NAMESPACE=" + namespace + ";K8S_POD_NAME=" + name
	}
	return &skel.CmdArgs{ContainerID: "abc", Netns: "/var/run/netns/x", IfName: "eth0", Args: a, StdinData: data}
}

func TestAddInstallsTheRulesOfCNIModePodsOnly(t *testing.T) {
	cniPod := injected(t, true)
	want, _, err := PodConfig(cniPod)
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		pod         *corev1.Pod
		namespace   string
		name        string
		wantRead    bool
		wantInstall bool
	}{
		"a pod injected in CNI mode gets its rules in its network namespace": {pod: cniPod, namespace: "shop", name: "web-1", wantRead: true, wantInstall: true},
		"a pod injected in init mode passes through":                         {pod: injected(t, false), namespace: "shop", name: "web-1", wantRead: true},
		"a pod planeless did not inject passes through":                      {pod: pods.New("db", pods.Namespace("shop")), namespace: "shop", name: "db", wantRead: true},
		"a pod of an excluded namespace passes through unread":               {pod: cniPod, namespace: "kube-system", name: "web-1"},
		"a container the runtime names no pod for passes through unread":     {pod: cniPod},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f := newFake(tc.pod, nil)
			if err := f.Add(args(tc.namespace, tc.name, chained)); err != nil {
				t.Fatal(err)
			}
			if got := len(f.read) > 0; got != tc.wantRead {
				t.Errorf("read the pod: %v, want %v", got, tc.wantRead)
			}
			if got := len(f.installed) > 0; got != tc.wantInstall {
				t.Fatalf("installed rules: %v, want %v", got, tc.wantInstall)
			}
			if tc.wantInstall && (f.installed[0] != "/var/run/netns/x" || iptables.Format(iptables.Plan(f.config)) != iptables.Format(iptables.Plan(want))) {
				t.Errorf("installed in %s the plan of %+v, want the pod's %+v", f.installed[0], f.config, want)
			}
			var got, prev map[string]any
			if err := json.Unmarshal(f.out.Bytes(), &got); err != nil {
				t.Fatalf("the result is not JSON: %v\n%s", err, f.out.String())
			}
			_ = json.Unmarshal([]byte(prevResult), &prev)
			if g, _ := json.Marshal(got["ips"]); !bytes.Equal(g, mustJSON(prev["ips"])) {
				t.Errorf("the result is not the previous plugin's: %s", f.out.String())
			}
		})
	}
}

// The rules the plugin installs are those planeless-init gets in init
// mode: the same flags, parsed by the same flag set.
func TestTheCNIModeConfigIsTheInitContainersConfig(t *testing.T) {
	cni, _, err := PodConfig(injected(t, true))
	if err != nil {
		t.Fatal(err)
	}
	initPod := injected(t, false)
	var initArgs []string
	for _, c := range initPod.Spec.InitContainers {
		if c.Name == inject.InitName {
			initArgs = c.Args
		}
	}
	viaInit, err := ParseValidateArgs(initArgs)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := iptables.Format(iptables.Plan(cni)), iptables.Format(iptables.Plan(viaInit)); got != want {
		t.Errorf("CNI mode plans:\n%s\ninit mode:\n%s", got, want)
	}
}

func TestErrorsNameThePod(t *testing.T) {
	bad := injected(t, true)
	for i, c := range bad.Spec.InitContainers {
		if c.Name == inject.ValidateName {
			bad.Spec.InitContainers[i].Args = append(c.Args, "--inbound-ports=notaport")
		}
	}
	tests := map[string]struct {
		run  func(p *Plugin) error
		want string
	}{
		"the API server cannot be read": {
			run: func(*Plugin) error {
				return newFake(nil, errors.New("connection refused")).Add(args("shop", "web-1", chained))
			},
			want: "reading pod shop/web-1 from the API server: connection refused"},
		"the pod's arguments do not parse": {
			run:  func(*Plugin) error { return newFake(bad, nil).Add(args("shop", "web-1", chained)) },
			want: "pod shop/web-1: parsing the arguments of the validate container"},
		"a rule is missing on CHECK": {
			run: func(*Plugin) error {
				f := newFake(injected(t, true), nil)
				f.verifyErr = errors.New("1 of planeless's rules are missing")
				return f.Check(args("shop", "web-1", chained))
			},
			want: "checking the iptables rules of pod shop/web-1: 1 of planeless's rules are missing"},
		"the plugin is not chained": {
			run:  func(*Plugin) error { return newFake(nil, nil).Add(args("shop", "web-1", stdin(""))) },
			want: "planeless-cni is a chained plugin"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := tc.run(nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestDelAlwaysSucceeds(t *testing.T) {
	f := newFake(nil, errors.New("the API server is gone"))
	if err := f.Del(args("shop", "web-1", chained)); err != nil || len(f.read) > 0 {
		t.Errorf("DEL = %v, read %v; want success without reading anything", err, f.read)
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
