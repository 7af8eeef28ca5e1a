package harness

import (
	"context"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Names of the containers planeless adds to a pod.
const (
	InitContainerName  = "planeless-init"
	ProxyContainerName = "planeless-proxy"
	// BootstrapAnnotation carries Envoy's bootstrap in the injected pod.
	BootstrapAnnotation = "planeless.dev/bootstrap"
)

// DefaultAppUID runs the apps of a pod that sets no runAsUser.
const DefaultAppUID = 1000

// PodOptions says how to run a pod's application containers, which the
// harness cannot pull as images.
type PodOptions struct {
	// Apps maps each application container's name to testapp's arguments
	// (e.g. "rest", "-listen", ":8080"). Every application container of the
	// pod needs an entry.
	Apps map[string][]string
	// Aliases are more names (Service names) that resolve to the pod's IP,
	// in every pod of the harness.
	Aliases []string
}

// Pod is a running "pod": a network namespace with the pod's processes.
type Pod struct {
	// Name is the pod's name; it resolves to IP in every pod.
	Name string
	// NS is the network namespace (`ip netns exec <NS> ...`).
	NS string
	IP netip.Addr
	// IP6 is the pod's IPv6 address; names resolve to IP only.
	IP6 netip.Addr
	// Object is the pod as planeless produced it.
	Object *corev1.Pod

	AppUID, AppGID     int64
	ProxyUID, ProxyGID int64
	// StatsPort and StatsPath come from the prometheus.io/port and
	// prometheus.io/path annotations (defaults 15090, /stats/prometheus).
	StatsPort int
	StatsPath string

	h       *Harness
	aliases []string
	dir     string
	init    *corev1.Container
	// initBinary is this machine's binary for the init container's
	// command (planeless or planeless-pod).
	initBinary string
	proxy      *corev1.Container

	mu    sync.Mutex
	envoy *process
	apps  []*process
}

// Start runs pod on the harness: namespace, init container, Envoy (waiting
// for /ready), then the apps (waiting for their ports). A pod without the
// planeless containers runs as a plain pod: apps only.
func (h *Harness) Start(t T, pod *corev1.Pod, opts PodOptions) *Pod {
	t.Helper()
	p, err := h.newPod(pod, opts)
	if err != nil {
		t.Fatalf("pod %s: %v", pod.Name, err)
	}
	if p.init != nil && len(p.init.Command) > 0 {
		p.initBinary = ForCommand(t, p.init.Command[0])
	}
	ctx := t.Context()
	if err := h.createNetns(ctx, p); err != nil {
		t.Fatalf("pod %s: %v", p.Name, err)
	}
	if p.init != nil {
		if out, err := p.RunInit(ctx); err != nil {
			t.Fatalf("pod %s: init container: %v\n%s", p.Name, err, out)
		}
	}
	if p.proxy != nil {
		p.StartEnvoy(t)
	}
	for _, c := range pod.Spec.Containers {
		if c.Name == ProxyContainerName {
			continue
		}
		if err := p.startApp(ctx, c, opts.Apps[c.Name]); err != nil {
			t.Fatalf("pod %s: %v", p.Name, err)
		}
	}
	return p
}

// Plain starts a pod with no sidecar whose containers are the given apps
// (a client "from another pod", a TCP server, ...).
func (h *Harness) Plain(t T, name string, opts PodOptions) *Pod {
	t.Helper()
	pod := &corev1.Pod{}
	pod.Name = name
	pod.Namespace = "default"
	for _, c := range slices.Sorted(maps.Keys(opts.Apps)) {
		pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: c})
	}
	return h.Start(t, pod, opts)
}

func (h *Harness) newPod(pod *corev1.Pod, opts PodOptions) (*Pod, error) {
	if pod.Name == "" {
		return nil, fmt.Errorf("the pod has no name")
	}
	p := &Pod{
		Name:      pod.Name,
		Object:    pod,
		NS:        h.prefix + "-" + pod.Name,
		h:         h,
		aliases:   opts.Aliases,
		StatsPort: 15090,
		StatsPath: "/stats/prometheus",
	}
	if v := pod.Annotations["prometheus.io/port"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, fmt.Errorf("annotation prometheus.io/port %q: %w", v, err)
		}
		p.StatsPort = n
	}
	if v := pod.Annotations["prometheus.io/path"]; v != "" {
		p.StatsPath = v
	}
	p.init = findContainer(pod.Spec.InitContainers, InitContainerName)
	p.proxy = findContainer(pod.Spec.InitContainers, ProxyContainerName)
	if p.proxy == nil {
		p.proxy = findContainer(pod.Spec.Containers, ProxyContainerName)
	}
	if p.proxy != nil {
		p.ProxyUID, p.ProxyGID = userOf(pod, p.proxy, 1337)
	}
	for _, c := range pod.Spec.Containers {
		if c.Name == ProxyContainerName {
			continue
		}
		if _, ok := opts.Apps[c.Name]; !ok {
			return nil, fmt.Errorf("no test app given for container %q", c.Name)
		}
		p.AppUID, p.AppGID = userOf(pod, &c, DefaultAppUID)
	}
	if p.AppUID == 0 {
		p.AppUID, p.AppGID = DefaultAppUID, DefaultAppUID
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	for _, other := range h.pods {
		if other.Name == p.Name {
			return nil, fmt.Errorf("a pod named %s already runs", p.Name)
		}
	}
	if h.nextIP > 254 {
		return nil, fmt.Errorf("the harness subnet is full")
	}
	p.IP = netip.AddrFrom4([4]byte{10, 213, byte(h.octet), byte(h.nextIP)})
	p.IP6 = ipv6Of(h.octet, h.nextIP)
	h.nextIP++
	p.dir = filepath.Join(h.dir, p.Name)
	if err := os.MkdirAll(p.dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating the pod folder: %w", err)
	}
	h.pods = append(h.pods, p)
	return p, nil
}

func (h *Harness) createNetns(ctx context.Context, p *Pod) error {
	veth := fmt.Sprintf("%sv%d", h.prefix, p.IP.As4()[3])
	for _, args := range [][]string{
		{"netns", "add", p.NS},
		{"-n", p.NS, "link", "set", "lo", "up"},
		{"link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", p.NS},
		{"link", "set", veth, "master", h.bridge},
		{"link", "set", veth, "up"},
		{"-n", p.NS, "addr", "add", p.IP.String() + "/24", "dev", "eth0"},
		{"-n", p.NS, "link", "set", "eth0", "up"},
		{"-n", p.NS, "route", "add", "default", "via", h.gateway.String()},
		{"-n", p.NS, "-6", "addr", "add", p.IP6.String() + "/64", "dev", "eth0", "nodad"},
		{"-n", p.NS, "-6", "route", "add", "default", "via", h.gateway6.String()},
	} {
		if err := ip(ctx, args...); err != nil {
			return fmt.Errorf("creating the network namespace: %w", err)
		}
	}
	return h.writeHosts()
}

// names are what resolve to the pod's IP.
func (p *Pod) names() []string {
	return append([]string{p.Name}, p.aliases...)
}

// RunInit runs the init container's own command inside the pod's
// namespace as root, as the kubelet would (again, when called twice).
func (p *Pod) RunInit(ctx context.Context) (string, error) {
	if p.init == nil {
		return "", fmt.Errorf("pod %s has no %s container", p.Name, InitContainerName)
	}
	argv := p.expandAll(p.init, slices.Concat(p.init.Command, p.init.Args))
	if len(argv) == 0 {
		return "", fmt.Errorf("container %s has no command", InitContainerName)
	}
	if p.initBinary != "" {
		argv[0] = p.initBinary
	}
	volumes, err := p.emptyDirs(p.init)
	if err != nil {
		return "", err
	}
	wrapper := container{volumes: volumes}.wrapper(InitContainerName)
	return run(ctx, "ip", slices.Concat([]string{"netns", "exec", p.NS}, wrapper, argv)...)
}

func (p *Pod) startApp(ctx context.Context, c corev1.Container, args []string) error {
	uid, gid := userOf(p.Object, &c, DefaultAppUID)
	proc, err := startProcess(p.dir, p.NS, "app-"+c.Name, uid, gid, container{}, p.envList(&c), slices.Concat([]string{p.h.testapp}, args)...)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.apps = append(p.apps, proc)
	p.mu.Unlock()

	var ports []int
	for _, cp := range c.Ports {
		if cp.Protocol == "" || cp.Protocol == corev1.ProtocolTCP {
			ports = append(ports, int(cp.ContainerPort))
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if done, err := proc.exited(); done {
			return fmt.Errorf("app %s %v: %w\n%s", c.Name, args, err, proc.tail(20))
		}
		listening, err := p.listening(ctx)
		if err == nil && containsAll(listening, ports) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("app %s did not listen on %v within 20s (listening: %v, %v)\n%s", c.Name, ports, listening, err, proc.tail(20))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// StopApp kills the application container named name, as a crash would.
func (p *Pod) StopApp(t T, name string) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, a := range p.apps {
		if a.name == "app-"+name {
			a.kill()
			return
		}
	}
	t.Fatalf("pod %s has no app container %s", p.Name, name)
}

// Listening lists the TCP ports something listens on in the pod, on any
// address.
func (p *Pod) Listening(t T) []int {
	t.Helper()
	ports, err := p.listening(t.Context())
	if err != nil {
		t.Fatalf("pod %s: listing listening ports: %v", p.Name, err)
	}
	return ports
}

// listening lists the TCP ports something listens on in the namespace.
func (p *Pod) listening(ctx context.Context) ([]int, error) {
	out, err := run(ctx, "ip", "netns", "exec", p.NS, "ss", "-ltnH")
	if err != nil {
		return nil, err
	}
	var ports []int
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 {
			continue
		}
		i := strings.LastIndex(f[3], ":")
		if n, err := strconv.Atoi(f[3][i+1:]); err == nil && !slices.Contains(ports, n) {
			ports = append(ports, n)
		}
	}
	return ports, nil
}

func (p *Pod) stopAll() {
	p.mu.Lock()
	procs := slices.Clone(p.apps)
	if p.envoy != nil {
		procs = append(procs, p.envoy)
	}
	p.mu.Unlock()
	for _, proc := range procs {
		proc.kill()
	}
}

func (p *Pod) dumpLogs(t T) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.envoy != nil {
		if tail := p.envoy.tail(40); tail != "" {
			t.Logf("pod %s envoy:\n%s", p.Name, tail)
		}
	}
	for _, a := range p.apps {
		if tail := a.tail(20); tail != "" {
			t.Logf("pod %s %s:\n%s", p.Name, a.name, tail)
		}
	}
}

func findContainer(cs []corev1.Container, name string) *corev1.Container {
	for i := range cs {
		if cs[i].Name == name {
			return &cs[i]
		}
	}
	return nil
}

// userOf is the UID and GID a container runs as: its own securityContext,
// else the pod's, else fallback.
func userOf(pod *corev1.Pod, c *corev1.Container, fallback int64) (int64, int64) {
	uid, gid := int64(-1), int64(-1)
	if psc := pod.Spec.SecurityContext; psc != nil {
		if psc.RunAsUser != nil {
			uid = *psc.RunAsUser
		}
		if psc.RunAsGroup != nil {
			gid = *psc.RunAsGroup
		}
	}
	if sc := c.SecurityContext; sc != nil {
		if sc.RunAsUser != nil {
			uid = *sc.RunAsUser
		}
		if sc.RunAsGroup != nil {
			gid = *sc.RunAsGroup
		}
	}
	if uid < 0 {
		uid = fallback
	}
	if gid < 0 {
		gid = uid
	}
	return uid, gid
}

func containsAll(have, want []int) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}
