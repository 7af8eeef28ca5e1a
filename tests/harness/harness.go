package harness

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Harness owns one bridge, one /24 of private addresses (10.213.<n>.0/24)
// and every pod started on it. Everything it creates is named after <n>
// (bridge plh<n>, namespaces plh<n>-<pod>, /etc/netns/plh<n>-<pod>) and
// removed when the test ends, pass or fail.
type Harness struct {
	octet    int
	prefix   string
	bridge   string
	gateway  netip.Addr
	gateway6 netip.Addr
	dir      string

	testapp string

	mu     sync.Mutex
	pods   []*Pod
	nextIP int
}

// New creates the bridge, after sweeping what a killed earlier run left
// behind. It needs root.
func New(t T) *Harness {
	t.Helper()
	requireRoot(t)
	for _, tool := range []string{"ip", "setpriv", "ss", "iptables-save"} {
		requireCommand(t, tool, "apt-get install iproute2 util-linux iptables")
	}
	testapp := Testapp(t)
	octet, err := allocate()
	if err != nil {
		t.Fatalf("allocating a harness subnet: %v", err)
	}
	h := &Harness{
		octet:   octet,
		prefix:  fmt.Sprintf("plh%d", octet),
		gateway: netip.AddrFrom4([4]byte{10, 213, byte(octet), 1}),
		// Pods are dual-stack: fd00:213:<n>::<k>/64 beside 10.213.<n>.<k>.
		gateway6: ipv6Of(octet, 1),
		nextIP:   2,
		testapp:  testapp,
	}
	h.bridge = h.prefix
	t.Cleanup(func() { h.close(t) })

	dir, err := os.MkdirTemp("", h.prefix+"-")
	if err != nil {
		t.Fatalf("creating the harness folder: %v", err)
	}
	// Envoy and the apps run as other users and read their files here.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatalf("opening the harness folder: %v", err)
	}
	h.dir = dir

	ctx := context.Background()
	for _, args := range [][]string{
		{"link", "add", h.bridge, "type", "bridge"},
		{"addr", "add", h.gateway.String() + "/24", "dev", h.bridge},
		{"-6", "addr", "add", h.gateway6.String() + "/64", "dev", h.bridge, "nodad"},
		{"link", "set", h.bridge, "up"},
	} {
		if err := ip(ctx, args...); err != nil {
			t.Fatalf("creating the bridge: %v", err)
		}
	}
	return h
}

// ipv6Of is the IPv6 address of host k of harness n.
func ipv6Of(n, k int) netip.Addr {
	return netip.AddrFrom16([16]byte{0: 0xfd, 2: 0x02, 3: 0x13, 5: byte(n), 15: byte(k)})
}

// Dir is a folder every pod's users can read, removed at the end.
func (h *Harness) Dir() string { return h.dir }

// Gateway is the host's address on the bridge: the test process reaches
// pods from there (readiness, stats scrapes), like a kubelet from the node.
func (h *Harness) Gateway() netip.Addr { return h.gateway }

// Pods returns the pods started so far.
func (h *Harness) Pods() []*Pod {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.pods)
}

func (h *Harness) close(t T) {
	h.mu.Lock()
	pods := slices.Clone(h.pods)
	h.mu.Unlock()
	for _, p := range pods {
		p.stopAll()
	}
	if t.Failed() {
		for _, p := range pods {
			p.dumpLogs(t)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := sweep(ctx, h.octet); err != nil {
		t.Errorf("cleaning up harness %s: %v", h.prefix, err)
	}
	if h.dir != "" {
		_ = os.RemoveAll(h.dir)
	}
	release(h.octet)
}

// writeHosts gives every pod the same name table: each pod's name and
// aliases resolve to its IP. Files are rewritten in place, because
// `ip netns exec` bind-mounts them over /etc/hosts of running processes.
func (h *Harness) writeHosts() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	var b strings.Builder
	b.WriteString("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
	for _, p := range h.pods {
		fmt.Fprintf(&b, "%s\t%s\n", p.IP, strings.Join(p.names(), " "))
	}
	for _, p := range h.pods {
		dir := filepath.Join("/etc/netns", p.NS)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("creating %s: %w", dir, err)
		}
		if err := writeInPlace(filepath.Join(dir, "hosts"), b.String()); err != nil {
			return err
		}
		// Unknown names fail at once instead of waiting for a DNS server
		// the namespace cannot reach.
		if err := writeInPlace(filepath.Join(dir, "resolv.conf"), "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n"); err != nil {
			return err
		}
	}
	return nil
}

func writeInPlace(path, content string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}
