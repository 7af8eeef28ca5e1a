package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/planeless/planeless/tests/need"
	"github.com/planeless/planeless/tests/node/images"
)

// Addresses inside every node's network namespace (each node has its own).
const (
	PodCIDR     = "10.244.0.0/24"
	podGateway  = "10.244.0.1"
	ServiceCIDR = "10.96.0.0/16"
	apiService  = "10.96.0.1"
	DNSService  = "10.96.0.10"
	ClusterCIDR = "10.244.0.0/16"
)

// Base is where every node keeps its files, one folder per node.
const Base = "/var/lib/planeless-node"

// Cluster is a running node.
type Cluster struct {
	// Name names the node's folder, namespace and cgroup.
	Name string
	// Index picks the host link's /30: 10.214.<Index>.0/30.
	Index int
	// Dir is the node's folder.
	Dir string
	// NodeIP is the API server's and the kubelet's address, reachable
	// from the host through the veth pair.
	NodeIP string
	// NodeName is the Node object's name.
	NodeName string
	// Kubeconfig acts as an admin (system:masters) from the host.
	Kubeconfig string
	Config     *rest.Config
	Client     kubernetes.Interface
	Tools      Tools

	logf   func(string, ...any)
	holder int

	mu    sync.Mutex
	procs []*exec.Cmd
}

// Options say which node to start.
type Options struct {
	Name  string
	Index int
	// Logf reports progress; nil is quiet.
	Logf func(format string, args ...any)
}

func (c *Cluster) netns() string    { return "pln-" + c.Name }
func (c *Cluster) hostLink() string { return fmt.Sprintf("pln%dh", c.Index) }
func (c *Cluster) nodeLink() string { return fmt.Sprintf("pln%dn", c.Index) }
func (c *Cluster) hostIP() string   { return fmt.Sprintf("10.214.%d.1", c.Index) }
func (c *Cluster) cgroup() string   { return "planeless-" + c.Name }
func (c *Cluster) path(p ...string) string {
	return filepath.Join(append([]string{c.Dir}, p...)...)
}
func (c *Cluster) socket() string { return c.path("run", "containerd.sock") }

func newCluster(o Options) *Cluster {
	logf := o.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	return &Cluster{
		Name:     o.Name,
		Index:    o.Index,
		Dir:      filepath.Join(Base, o.Name),
		NodeIP:   fmt.Sprintf("10.214.%d.2", o.Index),
		NodeName: "planeless-" + o.Name,
		logf:     logf,
	}
}

// Start runs a node named o.Name. A leftover of an earlier node of that
// name is removed first.
func Start(ctx context.Context, o Options) (_ *Cluster, err error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("a node needs root (namespaces, mounts, cgroups)")
	}
	tools, err := FindTools()
	if err != nil {
		return nil, err
	}
	c := newCluster(o)
	c.Tools = tools
	if err := c.Down(); err != nil {
		return nil, fmt.Errorf("removing the leftovers of node %s: %w", c.Name, err)
	}
	defer func() {
		if err != nil {
			c.logf("node %s failed to start: %v\n%s", c.Name, err, c.Logs(30))
			if derr := c.Down(); derr != nil {
				c.logf("removing node %s: %v", c.Name, derr)
			}
		}
	}()
	// Stops the image builds when the start fails.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	for _, d := range []string{"pki", "logs", "pids", "run", "etc", "bin", "images", "mnt/containerd", "mnt/kubelet", "mnt/cni", "mnt/log", "mnt/cgroup", "cni/net.d", "cni/bin"} {
		if err := os.MkdirAll(c.path(d), 0o755); err != nil {
			return nil, err
		}
	}

	// The images build while the network and the control plane come up.
	archives := make(chan []images.Archive, 1)
	imgErr := make(chan error, 1)
	go func() {
		a, err := c.buildImages(ctx)
		archives <- a
		imgErr <- err
	}()

	if err := pki(c.path("pki"), []string{c.NodeIP, apiService, "127.0.0.1", "localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"}); err != nil {
		return nil, err
	}
	if err := c.writeConfigs(); err != nil {
		return nil, err
	}
	if err := c.network(ctx); err != nil {
		return nil, err
	}
	if err := c.startHolder(ctx); err != nil {
		return nil, err
	}
	if err := c.controlPlane(ctx); err != nil {
		return nil, err
	}
	c.logf("control plane up after %s", time.Since(start).Round(time.Second))
	if err := c.daemon("containerd", c.bin("containerd"), "--config", c.path("etc", "containerd.toml")); err != nil {
		return nil, err
	}
	if err := c.waitFile(ctx, c.socket(), "containerd", 60*time.Second); err != nil {
		return nil, err
	}
	a := <-archives
	if err := <-imgErr; err != nil {
		return nil, fmt.Errorf("building the images: %w", err)
	}
	if err := c.importImages(ctx, a); err != nil {
		return nil, err
	}
	c.logf("images imported after %s", time.Since(start).Round(time.Second))
	if err := c.nodeDaemons(ctx); err != nil {
		return nil, err
	}
	if err := c.waitReady(ctx); err != nil {
		return nil, err
	}
	c.logf("node %s ready after %s", c.NodeName, time.Since(start).Round(time.Second))
	return c, nil
}

// Attach returns the running node named name (started by another process,
// e.g. `make cluster`).
func Attach(name string, index int) (*Cluster, error) {
	c := newCluster(Options{Name: name, Index: index})
	tools, err := FindTools()
	if err != nil {
		return nil, err
	}
	c.Tools = tools
	c.Kubeconfig = c.path("kubeconfig")
	pid, err := os.ReadFile(c.path("pids", "holder"))
	if err != nil {
		return nil, fmt.Errorf("node %s is not running: %w", name, err)
	}
	if c.holder, err = strconv.Atoi(strings.TrimSpace(string(pid))); err != nil {
		return nil, err
	}
	if err := c.connect(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Cluster) bin(name string) string {
	switch name {
	case "containerd", "ctr", "containerd-shim-runc-v2":
		return filepath.Join(c.Tools.Containerd, name)
	}
	return filepath.Join(c.Tools.Kube, name)
}

// run runs a command on the host, returning its combined output.
func run(ctx context.Context, name string, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return string(out), nil
}

// network makes the node's namespace, the veth pair to the host, the CNI
// bridge and the route that sends Service addresses to it (routing
// happens before kube-proxy's DNAT of the node's own connections).
func (c *Cluster) network(ctx context.Context) error {
	ns := c.netns()
	steps := [][]string{
		{"ip", "netns", "add", ns},
		{"ip", "link", "add", c.hostLink(), "type", "veth", "peer", "name", c.nodeLink(), "netns", ns},
		{"ip", "addr", "add", c.hostIP() + "/30", "dev", c.hostLink()},
		{"ip", "link", "set", c.hostLink(), "up"},
		{"ip", "-n", ns, "link", "set", "lo", "up"},
		{"ip", "-n", ns, "addr", "add", c.NodeIP + "/30", "dev", c.nodeLink()},
		{"ip", "-n", ns, "link", "set", c.nodeLink(), "up"},
		{"ip", "-n", ns, "link", "add", "cni0", "type", "bridge"},
		{"ip", "-n", ns, "addr", "add", podGateway + "/24", "dev", "cni0"},
		{"ip", "-n", ns, "link", "set", "cni0", "up"},
		{"ip", "-n", ns, "route", "add", ServiceCIDR, "dev", "cni0"},
		// Pods on one bridge answer each other through kube-proxy's NAT.
		{"ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.ip_forward=1", "net.bridge.bridge-nf-call-iptables=1", "net.bridge.bridge-nf-call-ip6tables=1"},
	}
	for _, s := range steps {
		if _, err := run(ctx, s[0], s[1:]...); err != nil {
			return err
		}
	}
	return nil
}

// startHolder starts the process that holds the node's private mount
// namespace (inside its network namespace) and prepares the mounts.
func (c *Cluster) startHolder(ctx context.Context) error {
	// Mount points for the private folders must exist on the host; they
	// stay (empty) after the node is gone.
	for _, d := range []string{"/run/containerd", "/var/lib/kubelet", "/var/lib/cni"} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	for _, ctl := range cgroupHierarchies() {
		dir := filepath.Join("/sys/fs/cgroup", ctl, c.cgroup())
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if ctl == "cpuset" {
			for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
				v, err := os.ReadFile(filepath.Join("/sys/fs/cgroup", ctl, f))
				if err == nil {
					_ = os.WriteFile(filepath.Join(dir, f), v, 0o644)
				}
			}
		}
	}
	m := c.path("mnt")
	script := strings.Join([]string{
		"set -e",
		"mount --rbind /sys/fs/cgroup " + m + "/cgroup",
		"mount -t sysfs sysfs /sys",
		"mount --move " + m + "/cgroup /sys/fs/cgroup",
		"mount --bind " + m + "/containerd /run/containerd",
		"mount --bind " + m + "/kubelet /var/lib/kubelet",
		"mount --bind " + m + "/cni /var/lib/cni",
		"mount --bind " + m + "/log /var/log",
		"touch " + c.path("run", "holder.ready"),
		"exec sleep infinity",
	}, "\n")
	cmd := exec.Command("nsenter", "--net=/run/netns/"+c.netns(), "--", "unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script)
	if err := c.startCmd("holder", cmd); err != nil {
		return err
	}
	c.holder = cmd.Process.Pid
	return c.waitFile(ctx, c.path("run", "holder.ready"), "the mount namespace", 10*time.Second)
}

// daemon starts a node process inside the node's namespaces.
func (c *Cluster) daemon(name string, argv ...string) error {
	args := append([]string{"-t", strconv.Itoa(c.holder), "-m", "-n", "--"}, argv...)
	return c.startCmd(name, exec.Command("nsenter", args...))
}

func (c *Cluster) startCmd(name string, cmd *exec.Cmd) error {
	log, err := os.OpenFile(c.path("logs", name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer log.Close()
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Env = append(os.Environ(), "PATH="+c.Tools.Containerd+":"+filepath.Dir(c.Tools.Runc)+":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	// Its own session: a Ctrl-C of `make cluster` does not reach it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", name, err)
	}
	c.mu.Lock()
	c.procs = append(c.procs, cmd)
	c.mu.Unlock()
	go func() { _ = cmd.Wait() }()
	return os.WriteFile(c.path("pids", name), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644)
}

func (c *Cluster) waitFile(ctx context.Context, path, what string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if _, err := os.Stat(path); err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not up within %s", what, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// controlPlane starts etcd, the API server, then the controller-manager
// and the scheduler once the API server is ready (before its default
// roles exist the controller-manager gives up).
func (c *Cluster) controlPlane(ctx context.Context) error {
	pki := func(f string) string { return c.path("pki", f) }
	if err := c.daemon("etcd", c.bin("etcd"),
		"--data-dir", c.path("etcd"),
		"--listen-client-urls", "http://127.0.0.1:2379", "--advertise-client-urls", "http://127.0.0.1:2379",
		"--listen-peer-urls", "http://127.0.0.1:2380", "--initial-advertise-peer-urls", "http://127.0.0.1:2380",
		"--initial-cluster", "default=http://127.0.0.1:2380",
		"--unsafe-no-fsync", "--log-level", "warn",
	); err != nil {
		return err
	}
	if err := c.daemon("kube-apiserver", c.bin("kube-apiserver"),
		"--etcd-servers", "http://127.0.0.1:2379",
		"--bind-address", "0.0.0.0", "--advertise-address", c.NodeIP, "--secure-port", "6443",
		"--tls-cert-file", pki("apiserver.crt"), "--tls-private-key-file", pki("apiserver.key"),
		"--client-ca-file", pki("ca.crt"),
		"--service-cluster-ip-range", ServiceCIDR,
		"--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file", pki("sa.pub"), "--service-account-signing-key-file", pki("sa.key"),
		"--token-auth-file", c.path("etc", "tokens.csv"),
		"--authorization-mode", "Node,RBAC",
		"--enable-admission-plugins", "NodeRestriction",
		"--kubelet-preferred-address-types", "InternalIP",
		"--allow-privileged=true", "--profiling=false", "--v=1",
	); err != nil {
		return err
	}
	c.Kubeconfig = c.path("kubeconfig")
	if err := c.connect(); err != nil {
		return err
	}
	if err := c.waitAPI(ctx); err != nil {
		return err
	}
	kc := func(who string) string { return c.path("etc", who+".kubeconfig") }
	if err := c.daemon("kube-controller-manager", c.bin("kube-controller-manager"),
		"--kubeconfig", kc("controller-manager"),
		"--authentication-kubeconfig", kc("controller-manager"), "--authorization-kubeconfig", kc("controller-manager"),
		"--bind-address", "127.0.0.1", "--leader-elect=false",
		"--use-service-account-credentials=true",
		"--service-account-private-key-file", pki("sa.key"), "--root-ca-file", pki("ca.crt"),
		"--cluster-signing-cert-file", pki("ca.crt"), "--cluster-signing-key-file", pki("ca.key"),
		"--controllers", "*,bootstrapsigner,tokencleaner", "--v=1",
	); err != nil {
		return err
	}
	return c.daemon("kube-scheduler", c.bin("kube-scheduler"),
		"--kubeconfig", kc("scheduler"),
		"--authentication-kubeconfig", kc("scheduler"), "--authorization-kubeconfig", kc("scheduler"),
		"--bind-address", "127.0.0.1", "--leader-elect=false", "--v=1",
	)
}

func (c *Cluster) connect() error {
	cfg, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
	if err != nil {
		return err
	}
	cfg.QPS, cfg.Burst = 50, 100
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	c.Config, c.Client = cfg, client
	return nil
}

func (c *Cluster) waitAPI(ctx context.Context) error {
	tr, err := rest.TransportFor(c.Config)
	if err != nil {
		return err
	}
	hc := &http.Client{Transport: tr, Timeout: 2 * time.Second}
	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, err := hc.Get(c.Config.Host + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("kube-apiserver not ready within 90s (last: %v)", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// nodeDaemons starts the kubelet, kube-proxy and CoreDNS.
func (c *Cluster) nodeDaemons(ctx context.Context) error {
	if err := c.daemon("kubelet", c.bin("kubelet"),
		"--config", c.path("etc", "kubelet.yaml"),
		"--kubeconfig", c.path("etc", "kubelet.kubeconfig"),
		"--hostname-override", c.NodeName, "--node-ip", c.NodeIP,
		"--root-dir", "/var/lib/kubelet", "--v=1",
	); err != nil {
		return err
	}
	if err := c.daemon("kube-proxy", c.bin("kube-proxy"), "--config", c.path("etc", "kube-proxy.yaml"), "--v=1"); err != nil {
		return err
	}
	if err := c.daemon("coredns", c.Tools.CoreDNS, "-conf", c.path("etc", "Corefile")); err != nil {
		return err
	}
	return c.dnsService(ctx)
}

// Logs returns the last lines of every daemon's log.
func (c *Cluster) Logs(lines int) string {
	var b strings.Builder
	entries, _ := os.ReadDir(c.path("logs"))
	for _, e := range entries {
		data, err := os.ReadFile(c.path("logs", e.Name()))
		if err != nil {
			continue
		}
		ls := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		if len(ls) > lines {
			ls = ls[len(ls)-lines:]
		}
		fmt.Fprintf(&b, "--- %s (last %d lines)\n%s\n", e.Name(), len(ls), strings.Join(ls, "\n"))
	}
	return b.String()
}

// buildImages builds the static binaries and every image.
func (c *Cluster) buildImages(ctx context.Context) ([]images.Archive, error) {
	root := need.RepoRoot()
	bins := map[string]string{
		"planeless":     "./cmd/planeless",
		"planeless-pod": "./cmd/planeless-pod",
		"testapp":       "./tests/apps/testapp",
		"pause":         "./tests/node/images/pause",
	}
	for out, pkg := range bins {
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", c.path("bin", out), pkg)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build %s: %w: %s", pkg, err, b)
		}
	}
	return images.Build(ctx, images.Inputs{
		Planeless:    c.path("bin", "planeless"),
		PlanelessPod: c.path("bin", "planeless-pod"),
		Testapp:      c.path("bin", "testapp"),
		Pause:        c.path("bin", "pause"),
		Envoy:        c.Tools.Envoy,
		Cache:        filepath.Join(root, ".tools", "images"),
		Logf:         c.logf,
	}, c.path("images"))
}

// importImages loads the archives into containerd's k8s.io namespace (the
// one the kubelet uses), under their references.
func (c *Cluster) importImages(ctx context.Context, archives []images.Archive) error {
	for _, a := range archives {
		if _, err := run(ctx, c.bin("ctr"), "--address", c.socket(), "-n", "k8s.io", "images", "import", "--no-unpack=false", a.Path); err != nil {
			return err
		}
	}
	out, err := run(ctx, c.bin("ctr"), "--address", c.socket(), "-n", "k8s.io", "images", "ls", "-q")
	if err != nil {
		return err
	}
	for _, a := range archives {
		if !strings.Contains(out, normalize(a.Ref)) {
			return fmt.Errorf("containerd does not list %s after the import:\n%s", normalize(a.Ref), out)
		}
	}
	return nil
}

// normalize returns the reference as containerd stores it
// (docker.io/library/ for Docker Hub's short names).
func normalize(ref string) string {
	first, _, found := strings.Cut(ref, "/")
	if !found {
		return "docker.io/library/" + ref
	}
	if !strings.ContainsAny(first, ".:") && first != "localhost" {
		return "docker.io/" + ref
	}
	return ref
}
