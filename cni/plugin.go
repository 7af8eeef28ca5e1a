package cni

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/plugins/pkg/ns"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/planeless/planeless/inject"
	"github.com/planeless/planeless/iptables"
)

// apiTimeout bounds reading the pod: the runtime waits for the plugin.
const apiTimeout = 10 * time.Second

// Plugin is the chained CNI plugin. Its parts are fields so that tests can
// stand in for the API server and the kernel.
type Plugin struct {
	// GetPod reads a pod with the kubeconfig of the plugin's configuration.
	GetPod func(ctx context.Context, kubeconfig, namespace, name string) (*corev1.Pod, error)
	// Install installs c's rules in the network namespace at netns;
	// Verify checks they are all there.
	Install func(ctx context.Context, netns string, c iptables.Config) error
	Verify  func(ctx context.Context, netns string, c iptables.Config) error
	// Stdout receives the result.
	Stdout io.Writer
}

// New returns the plugin working on the real API server and network
// namespaces.
func New() *Plugin {
	return &Plugin{GetPod: getPod, Install: install, Verify: verify, Stdout: os.Stdout}
}

// Funcs are the plugin's commands, for skel.PluginMainFuncs.
func (p *Plugin) Funcs() skel.CNIFuncs {
	return skel.CNIFuncs{Add: p.Add, Del: p.Del, Check: p.Check, Status: p.Status}
}

// Add installs the rules of a CNI-mode pod in its network namespace, and
// returns the previous plugin's result, for every pod.
func (p *Plugin) Add(args *skel.CmdArgs) error {
	conf, err := parseConf(args.StdinData)
	if err != nil {
		return err
	}
	c, pod, err := p.redirection(conf, args)
	if err != nil {
		return err
	}
	if c != nil {
		if err := p.Install(context.Background(), args.Netns, *c); err != nil {
			return fmt.Errorf("installing the iptables rules of pod %s: %w", pod, err)
		}
	}
	// Chained: the previous plugin's result, untouched, in the list's
	// version.
	result, err := conf.PrevResult.GetAsVersion(conf.CNIVersion)
	if err != nil {
		return fmt.Errorf("converting the previous result: %w", err)
	}
	return result.PrintTo(p.Stdout)
}

// Del has nothing to undo: the rules live in the pod's network namespace,
// which goes with the pod, and the plugin keeps nothing on the node.
func (p *Plugin) Del(*skel.CmdArgs) error { return nil }

// Check verifies that a CNI-mode pod's network namespace holds every rule
// of its plan.
func (p *Plugin) Check(args *skel.CmdArgs) error {
	conf, err := parseConf(args.StdinData)
	if err != nil {
		return err
	}
	c, pod, err := p.redirection(conf, args)
	if err != nil || c == nil {
		return err
	}
	if err := p.Verify(context.Background(), args.Netns, *c); err != nil {
		return fmt.Errorf("checking the iptables rules of pod %s: %w", pod, err)
	}
	return nil
}

// Status says the plugin can work: its kubeconfig is readable.
func (p *Plugin) Status(args *skel.CmdArgs) error {
	var conf Conf
	if err := json.Unmarshal(args.StdinData, &conf); err != nil {
		return fmt.Errorf("parsing the %s configuration: %w", PluginType, err)
	}
	if _, err := os.Stat(conf.Kubeconfig); err != nil {
		return fmt.Errorf("the kubeconfig of %s: %w", PluginType, err)
	}
	return nil
}

// redirection returns the Config of the pod the runtime is setting up, or
// nil when the plugin must pass it through, and the pod's name for errors.
func (p *Plugin) redirection(conf *Conf, args *skel.CmdArgs) (*iptables.Config, string, error) {
	namespace, name, err := podOf(args.Args)
	if err != nil || namespace == "" || name == "" || conf.excluded(namespace) {
		return nil, "", err
	}
	pod := namespace + "/" + name
	ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
	defer cancel()
	obj, err := p.GetPod(ctx, conf.Kubeconfig, namespace, name)
	if err != nil {
		return nil, pod, fmt.Errorf("reading pod %s from the API server: %w", pod, err)
	}
	c, ok, err := PodConfig(obj)
	if err != nil {
		return nil, pod, fmt.Errorf("pod %s: %w", pod, err)
	}
	if !ok {
		return nil, pod, nil
	}
	return &c, pod, nil
}

// PodConfig returns the iptables.Config of a pod injected in CNI mode,
// from the arguments of its planeless-validate container, and false for
// any other pod.
func PodConfig(pod *corev1.Pod) (iptables.Config, bool, error) {
	for _, c := range pod.Spec.InitContainers {
		if c.Name != inject.ValidateName {
			continue
		}
		cfg, err := ParseValidateArgs(c.Args)
		return cfg, err == nil, err
	}
	return iptables.Config{}, false, nil
}

func getPod(ctx context.Context, kubeconfig, namespace, name string) (*corev1.Pod, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", kubeconfig, err)
	}
	cfg.Timeout = apiTimeout
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return client.CoreV1().Pods(namespace).Get(ctx, name, metav1.GetOptions{})
}

func install(ctx context.Context, netns string, c iptables.Config) error {
	return ns.WithNetNSPath(netns, func(ns.NetNS) error {
		_, err := iptables.Install(ctx, iptables.BackendAuto, c)
		return err
	})
}

func verify(ctx context.Context, netns string, c iptables.Config) error {
	return ns.WithNetNSPath(netns, func(ns.NetNS) error {
		return iptables.Verify(ctx, iptables.BackendAuto, c)
	})
}

// WithSystemPath makes sure the iptables binaries are found: runtimes run
// plugins with their own environment, which may lack the sbin folders.
func WithSystemPath() {
	path := os.Getenv("PATH")
	for _, dir := range []string{"/usr/local/sbin", "/usr/sbin", "/sbin"} {
		if !strings.Contains(":"+path+":", ":"+dir+":") {
			path += ":" + dir
		}
	}
	_ = os.Setenv("PATH", strings.TrimPrefix(path, ":"))
}
