package iptables

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/planeless/planeless/tests/need"
)

// buildPlanelessPod builds cmd/planeless-pod, so the tests run the real
// CLI the injected init container runs (`planeless init` is the same code).
func buildPlanelessPod(t testing.TB) string {
	t.Helper()
	goCmd := need.Command(t, "go", "install Go")
	bin := filepath.Join(t.TempDir(), "planeless-pod")
	cmd := exec.CommandContext(t.Context(), goCmd, "build", "-o", bin, "./cmd/planeless-pod")
	cmd.Dir = need.RepoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building planeless-pod: %v\n%s", err, out)
	}
	return bin
}

// run runs a command and returns its stdout; a failure ends the test.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := runErr(t.Context(), name, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func runErr(ctx context.Context, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s %s: %w\nstdout: %s\nstderr: %s", name, strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String(), nil
}

// A testPod is two network namespaces joined by a veth pair: "pod", where
// planeless init runs, and "out", the rest of the cluster. Both are
// removed when the test ends, whatever happens.
type testPod struct {
	pod, out string
}

// Addresses inside the two namespaces only: nothing leaves this machine.
var (
	podIP4      = netip.MustParseAddr("10.77.0.2")
	outIP4      = netip.MustParseAddr("10.77.0.1")
	outExcluded = netip.MustParseAddr("10.77.0.3") // an excluded CIDR, both ways
	podIP6      = netip.MustParseAddr("fd77::2")
	outIP6      = netip.MustParseAddr("fd77::1")
	outExcl6    = netip.MustParseAddr("fd77::3")
)

func newTestPod(t *testing.T) *testPod {
	t.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	id := hex.EncodeToString(b)
	p := &testPod{pod: "planeless-" + id + "-pod", out: "planeless-" + id + "-out"}
	for _, ns := range []string{p.pod, p.out} {
		run(t, "ip", "netns", "add", ns)
		t.Cleanup(func() {
			if _, err := runErr(context.Background(), "ip", "netns", "del", ns); err != nil {
				t.Errorf("removing network namespace: %v", err)
			}
		})
	}
	// The veth is created inside the pod namespace with its peer in the
	// other one, so the host's namespace never holds it.
	run(t, "ip", "-n", p.pod, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", p.out)
	for ns, addrs := range map[string][]string{
		p.pod: {podIP4.String() + "/24", podIP6.String() + "/64"},
		p.out: {outIP4.String() + "/24", outExcluded.String() + "/24", outIP6.String() + "/64", outExcl6.String() + "/64"},
	} {
		for _, a := range addrs {
			args := []string{"-n", ns, "addr", "add", a, "dev", "eth0"}
			if strings.Contains(a, ":") {
				args = append(args, "nodad")
			}
			run(t, "ip", args...)
		}
		run(t, "ip", "-n", ns, "link", "set", "lo", "up")
		run(t, "ip", "-n", ns, "link", "set", "eth0", "up")
	}
	return p
}

// inNetns runs fn on an OS thread that has entered network namespace ns:
// sockets fn creates belong to ns for good. The thread is never unlocked,
// so it dies with its goroutine instead of going back to the pool.
func inNetns(ns string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open(filepath.Join("/run/netns", ns))
		if err != nil {
			errc <- err
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("entering network namespace %s: %w", ns, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// listen starts a TCP listener in ns that answers every connection with
// one line: its name and the connection's original destination (what
// SO_ORIGINAL_DST reports, i.e. the address before any REDIRECT).
func listen(t *testing.T, ns, name, network, addr string) {
	t.Helper()
	var l net.Listener
	err := inNetns(ns, func() (err error) {
		l, err = net.Listen(network, addr)
		return err
	})
	if err != nil {
		t.Fatalf("listening on %s in %s: %v", addr, ns, err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			fmt.Fprintf(c, "%s %s\n", name, originalDst(c.(*net.TCPConn)))
			c.Close()
		}
	}()
}

// listenUDP starts a UDP socket in ns that answers every datagram with
// its name.
func listenUDP(t *testing.T, ns, name, network, addr string) {
	t.Helper()
	var c net.PacketConn
	err := inNetns(ns, func() (err error) {
		c, err = net.ListenPacket(network, addr)
		return err
	})
	if err != nil {
		t.Fatalf("listening on udp %s in %s: %v", addr, ns, err)
	}
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 512)
		for {
			_, from, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = c.WriteTo([]byte(name+"\n"), from)
		}
	}()
}

// originalDst reads SO_ORIGINAL_DST (IP6T_SO_ORIGINAL_DST for IPv6), the
// destination a connection had before NAT. Where nothing tracks
// connections (no nat rules in the namespace) the connection was not
// translated, and its local address is where it was aimed.
func originalDst(c *net.TCPConn) string {
	local := c.LocalAddr().(*net.TCPAddr).AddrPort()
	got := netip.AddrPortFrom(local.Addr().Unmap(), local.Port()).String()
	raw, err := c.SyscallConn()
	if err != nil {
		return got
	}
	v4 := local.Addr().Unmap().Is4()
	_ = raw.Control(func(fd uintptr) {
		var buf [28]byte // sockaddr_in6, larger than sockaddr_in
		size := uint32(len(buf))
		level := unix.SOL_IP
		if !v4 {
			level = unix.SOL_IPV6
		}
		const soOriginalDst = 80 // SO_ORIGINAL_DST and IP6T_SO_ORIGINAL_DST
		_, _, errno := unix.Syscall6(unix.SYS_GETSOCKOPT, fd, uintptr(level), soOriginalDst,
			uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&size)), 0)
		if errno != 0 {
			return
		}
		port := binary.BigEndian.Uint16(buf[2:4])
		if v4 {
			got = netip.AddrPortFrom(netip.AddrFrom4([4]byte(buf[4:8])), port).String()
		} else {
			got = netip.AddrPortFrom(netip.AddrFrom16([16]byte(buf[8:24])), port).String()
		}
	})
	return got
}

// dialAs connects from the pod namespace as a process of the given uid and
// gid (bash's /dev/tcp or /dev/udp under setpriv), sends a line and returns
// the one line the listener answers.
func (p *testPod) dialAs(t *testing.T, uid, gid int, network string, to netip.AddrPort) string {
	t.Helper()
	// bash reads a line one byte at a time, which would drop the rest of a
	// datagram: dd takes the whole answer in one read.
	script := `exec 3<>/dev/` + network + `/"$0"/"$1" && echo hello >&3 && dd bs=512 count=1 status=none <&3`
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	out, err := runErr(ctx, "ip", "netns", "exec", p.pod,
		"setpriv", fmt.Sprintf("--reuid=%d", uid), fmt.Sprintf("--regid=%d", gid), "--clear-groups",
		"bash", "-c", script, to.Addr().String(), fmt.Sprint(to.Port()))
	if err != nil {
		return "error: " + err.Error()
	}
	return strings.TrimSpace(out)
}

// dialFrom connects from the other namespace, from the given source
// address, and returns the one line the listener answers.
func (p *testPod) dialFrom(t *testing.T, network string, from netip.Addr, to netip.AddrPort) string {
	t.Helper()
	var line string
	err := inNetns(p.out, func() error {
		d := net.Dialer{Timeout: 10 * time.Second}
		if network == "tcp" {
			d.LocalAddr = &net.TCPAddr{IP: from.AsSlice()}
		} else {
			d.LocalAddr = &net.UDPAddr{IP: from.AsSlice()}
		}
		c, err := d.DialContext(t.Context(), network, to.String())
		if err != nil {
			return err
		}
		defer c.Close()
		if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
			return err
		}
		if _, err := c.Write([]byte("hello\n")); err != nil {
			return err
		}
		line, err = bufio.NewReader(c).ReadString('\n')
		return err
	})
	if err != nil {
		return "error: " + err.Error()
	}
	return strings.TrimSpace(line)
}

// save returns the nat table of the pod namespace as the backend's own
// iptables-save prints it, without the timestamped comments and with
// every counter zeroed.
func (p *testPod) save(t *testing.T, backend Backend, f Family) string {
	t.Helper()
	out := run(t, "ip", "netns", "exec", p.pod, commandFor(f)+"-"+string(backend)+"-save", "-t", "nat")
	var b strings.Builder
	for line := range strings.Lines(out) {
		if !strings.HasPrefix(line, "#") {
			b.WriteString(counters.ReplaceAllString(line, "[0:0]"))
		}
	}
	return b.String()
}

var counters = regexp.MustCompile(`\[\d+:\d+\]`)

// installedRules returns the -A lines of a save, with quotes removed.
func installedRules(save string) []string {
	var rules []string
	for line := range strings.Lines(save) {
		if strings.HasPrefix(line, "-A ") {
			rules = append(rules, strings.ReplaceAll(strings.TrimSpace(line), `"`, ""))
		}
	}
	return rules
}

// inSaveOrder returns the rules of family f as iptables-save lists them:
// chain by chain, built-in chains first, then the others by name, each
// chain's rules in the order they were appended.
func inSaveOrder(rules []Rule, f Family) []string {
	rank := func(chain string) string {
		if i := slices.Index([]string{"PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"}, chain); i >= 0 {
			return fmt.Sprint(i)
		}
		return "9" + chain
	}
	rules = slices.DeleteFunc(slices.Clone(rules), func(r Rule) bool { return r.Family != f })
	slices.SortStableFunc(rules, func(a, b Rule) int { return strings.Compare(rank(a.Chain), rank(b.Chain)) })
	out := make([]string, len(rules))
	for i, r := range rules {
		out[i] = r.String()
	}
	return out
}
