package bootstrap_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"sigs.k8s.io/yaml"

	"github.com/planeless/planeless/bootstrap"
	"github.com/planeless/planeless/proxy"
	"github.com/planeless/planeless/tests/need"
)

// envoyProcess is a real Envoy started by a test.
type envoyProcess struct {
	exited chan struct{}
	// adminSocket is where its admin interface listens.
	adminSocket string
	pid         int
}

// syncBuffer collects Envoy's output while it runs.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startEnvoy runs the real Envoy with b and waits until its stats listener
// answers /ready. Envoy is stopped when the test ends.
func startEnvoy(t *testing.T, b *bootstrapv3.Bootstrap, statsPort uint16) *envoyProcess {
	t.Helper()
	envoy := need.Envoy(t)
	// The admin socket moves from the proxy's own volume to the test's
	// folder, as a second pod's volume would: tests run side by side.
	dir := t.TempDir()
	adminSocket := relocateAdminSocket(t, b, dir)
	js, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	y, err := yaml.JSONToYAML(js)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "envoy.yaml")
	if err := os.WriteFile(file, y, 0o644); err != nil {
		t.Fatal(err)
	}
	e := &envoyProcess{exited: make(chan struct{}), adminSocket: adminSocket}
	var output syncBuffer
	cmd := exec.Command(envoy, "-c", file, "--disable-hot-restart", "--base-id", fmt.Sprint(rand.IntN(1<<20)+1),
		"--concurrency", "1", "--log-level", "warning")
	cmd.Stdout, cmd.Stderr = &output, &output
	// What the injector hands the proxy from the downward API.
	cmd.Env = append(os.Environ(), "POD_NAME=cart-7c9d8f6b5-x2x7q", "POD_NAMESPACE=shop", "POD_IP=127.0.0.1")
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting envoy: %v", err)
	}
	e.pid = cmd.Process.Pid
	go func() { _ = cmd.Wait(); close(e.exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-e.exited
		if t.Failed() {
			t.Logf("envoy output:\n%s", output.String())
		}
	})

	ready := fmt.Sprintf("http://127.0.0.1:%d%s", statsPort, bootstrap.ReadyPath)
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-e.exited:
			t.Fatalf("envoy exited before it was ready:\n%s", output.String())
		default:
		}
		if resp, err := http.Get(ready); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return e
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("envoy not ready on %s after 30s:\n%s", ready, output.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// relocateAdminSocket points the admin interface and the stats listener's
// route to it at a socket in dir, and returns its path.
func relocateAdminSocket(t *testing.T, b *bootstrapv3.Bootstrap, dir string) string {
	t.Helper()
	socket := filepath.Join(dir, "admin.sock")
	pipe := b.GetAdmin().GetAddress().GetPipe()
	if pipe == nil || pipe.Path != bootstrap.AdminSocket {
		t.Fatalf("the admin interface listens on %v, want the socket %s", b.GetAdmin().GetAddress(), bootstrap.AdminSocket)
	}
	pipe.Path = socket
	for _, c := range b.GetStaticResources().GetClusters() {
		for _, eps := range c.GetLoadAssignment().GetEndpoints() {
			for _, ep := range eps.GetLbEndpoints() {
				if p := ep.GetEndpoint().GetAddress().GetPipe(); p != nil && p.Path == bootstrap.AdminSocket {
					p.Path = socket
				}
			}
		}
	}
	return socket
}

// adminGet sends method path to the admin interface through its socket, as
// root (like `kubectl exec` into the proxy would, as its user).
func adminGet(t *testing.T, socket, method, path string) (int, string) {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", socket)
	}}}
	req, err := http.NewRequestWithContext(t.Context(), method, "http://admin"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s on the admin socket: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// freePort returns a TCP port nothing listens on right now.
func freePort(t *testing.T) uint16 {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return uint16(l.Addr().(*net.TCPAddr).Port)
}

// ipv6Available reports whether this machine can bind IPv6 sockets, so the
// default dual-stack bootstrap runs where it can.
func ipv6Available() bool {
	l, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

// defaultsWithFreePorts are the shipped defaults with Envoy's own ports
// moved to free ones, so tests can run in parallel.
func defaultsWithFreePorts(t *testing.T) proxy.Defaults {
	d := proxy.DefaultDefaults()
	d.Ports = proxy.Ports{Inbound: freePort(t), Outbound: freePort(t), Stats: freePort(t)}
	d.IPv6 = ipv6Available()
	return d
}

func get(t *testing.T, method, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func TestStatsListenerServesOnlyPrometheusAndReady(t *testing.T) {
	t.Parallel()
	d := defaultsWithFreePorts(t)
	p := pod("shop", "cart-7c9d8f6b5-", withLabel("app", "cart"), withLabel("version", "v1"), withPort("http", int32(freePort(t))))
	s, _, err := proxy.FromPod(p, d)
	if err != nil {
		t.Fatal(err)
	}
	b, err := bootstrap.Build(s)
	if err != nil {
		t.Fatal(err)
	}
	e := startEnvoy(t, b, d.Ports.Stats)
	stats := fmt.Sprintf("http://127.0.0.1:%d", d.Ports.Stats)

	if code, body := get(t, http.MethodGet, stats+"/ready"); code != http.StatusOK || !strings.Contains(body, "LIVE") {
		t.Errorf("GET /ready on the stats port = %d %q, want 200 LIVE", code, body)
	}
	code, body := get(t, http.MethodGet, stats+"/stats/prometheus")
	if code != http.StatusOK {
		t.Fatalf("GET /stats/prometheus on the stats port = %d, want 200", code)
	}
	for _, label := range []string{`namespace="shop"`, `app="cart"`, `version="v1"`} {
		if !strings.Contains(body, label) {
			t.Errorf("Prometheus text lacks the fixed tag %s", label)
		}
	}
	if !strings.Contains(body, `envoy_cluster_upstream_rq_total{namespace="shop",app="cart",version="v1",envoy_cluster_name="admin"}`) {
		t.Errorf("the admin cluster's requests are not tagged with their cluster name")
	}
	if !strings.Contains(body, "# TYPE envoy_") {
		t.Errorf("GET /stats/prometheus is not Prometheus text:\n%.500s", body)
	}

	for _, req := range []struct{ method, path string }{
		{http.MethodGet, "/config_dump"},
		{http.MethodPost, "/quitquitquit"},
		{http.MethodGet, "/stats"},
		{http.MethodGet, "/stats/prometheus/../../config_dump"},
		{http.MethodPost, "/healthcheck/fail"},
	} {
		if code, _ := get(t, req.method, stats+req.path); code != http.StatusNotFound {
			t.Errorf("%s %s on the stats port = %d, want 404", req.method, req.path, code)
		}
	}

	// On its socket the admin interface serves diagnostics but refuses
	// what is not in bootstrap.AdminPaths.
	if code, _ := adminGet(t, e.adminSocket, http.MethodGet, "/config_dump"); code != http.StatusOK {
		t.Errorf("GET /config_dump on the admin socket = %d, want 200", code)
	}
	if code, _ := adminGet(t, e.adminSocket, http.MethodPost, "/quitquitquit"); code != http.StatusForbidden {
		t.Errorf("POST /quitquitquit on the admin socket = %d, want 403", code)
	}
	if code, _ := adminGet(t, e.adminSocket, http.MethodPost, "/stats/recentlookups/enable"); code != http.StatusForbidden {
		t.Errorf("POST /stats/recentlookups/enable (under an allowed path) on the admin socket = %d, want 403", code)
	}
	if code, body := get(t, http.MethodGet, stats+"/stats/prometheus?usedonly&filter=cluster"); code != http.StatusOK || !strings.Contains(body, "envoy_cluster_") {
		t.Errorf("GET /stats/prometheus?usedonly&filter=cluster on the stats port = %d, want 200 with cluster metrics", code)
	}
	if fi, err := os.Stat(e.adminSocket); err != nil || fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Errorf("admin socket %s: %v, mode %v; want a socket only its owner may open (0600)", e.adminSocket, err, fi.Mode())
	}
	if code, _ := get(t, http.MethodGet, stats+"/ready"); code != http.StatusOK {
		t.Errorf("envoy is not ready any more after the refused requests: /ready = %d", code)
	}

	if ports := listeningPortsOf(t, e.pid); !slices.Equal(ports, slices.Sorted(slices.Values(s.Proxy.Ports.All()))) {
		t.Errorf("envoy listens on TCP ports %v, want only its listeners' %v: no admin port", ports, s.Proxy.Ports.All())
	}
	if addrs := listeningAddresses(t, d.Ports.Stats); !contains(addrs, "0.0.0.0") {
		t.Errorf("stats port %d listens on %v, want 0.0.0.0", d.Ports.Stats, addrs)
	}
}

// listeningAddresses reads /proc/net/tcp{,6} for the local addresses of
// the sockets listening on port.
func listeningAddresses(t *testing.T, port uint16) []string {
	t.Helper()
	var addrs []string
	for _, file := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		data, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Scan() // header
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) < 4 || f[3] != "0A" { // 0A = LISTEN
				continue
			}
			hexAddr, hexPort, _ := strings.Cut(f[1], ":")
			if hexPort != fmt.Sprintf("%04X", port) {
				continue
			}
			addrs = append(addrs, procAddr(hexAddr))
		}
	}
	return addrs
}

// listeningPortsOf returns the TCP ports process pid listens on, sorted,
// from its socket inodes in /proc/<pid>/fd and /proc/net/tcp{,6}.
func listeningPortsOf(t *testing.T, pid int) []uint16 {
	t.Helper()
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatalf("listing envoy's files: %v", err)
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		link, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if inode, ok := strings.CutPrefix(link, "socket:["); err == nil && ok {
			inodes[strings.TrimSuffix(inode, "]")] = true
		}
	}
	var ports []uint16
	for _, file := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		data, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Scan() // header
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) < 10 || f[3] != "0A" || !inodes[f[9]] { // 0A = LISTEN
				continue
			}
			_, hexPort, _ := strings.Cut(f[1], ":")
			var port uint16
			fmt.Sscanf(hexPort, "%X", &port)
			if !slices.Contains(ports, port) {
				ports = append(ports, port)
			}
		}
	}
	slices.Sort(ports)
	return ports
}

// procAddr decodes an address of /proc/net/tcp{,6}: 32-bit words in host
// (little-endian) byte order.
func procAddr(h string) string {
	var ip net.IP
	for i := 0; i+8 <= len(h); i += 8 {
		var w [4]byte
		for j := range 4 {
			_, _ = fmt.Sscanf(h[i+2*j:i+2*j+2], "%02X", &w[3-j])
		}
		ip = append(ip, w[:]...)
	}
	return ip.String()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
