package harness

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// stateDir records which process owns which harness subnet, so a run can
// tell its neighbours' live harnesses from a killed run's leftovers.
const stateDir = "/run/planeless-harness"

// allocate picks a free 10.213.<n>.0/24 under a file lock, sweeping the
// leftovers of owners that are gone, and records this process as owner.
func allocate() (int, error) {
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return 0, fmt.Errorf("creating %s: %w", stateDir, err)
	}
	lock, err := os.OpenFile(filepath.Join(stateDir, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return 0, fmt.Errorf("opening the lock: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return 0, fmt.Errorf("locking: %w", err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) //nolint:errcheck

	// First sweep whatever a dead owner left, anywhere in the range, then
	// take the first free subnet.
	leftovers := leftoverOctets()
	for octet := 1; octet <= 254; octet++ {
		owner, owned := ownerOf(octet)
		if owned && alive(owner) {
			continue
		}
		if owned || leftovers[octet] {
			_ = sweep(context.Background(), octet)
			release(octet)
		}
	}
	used := usedSubnets()
	for octet := 1; octet <= 254; octet++ {
		if owner, owned := ownerOf(octet); (owned && alive(owner)) || used[octet] || linkExists(fmt.Sprintf("plh%d", octet)) {
			continue
		}
		if err := os.WriteFile(leaseFile(octet), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
			return 0, fmt.Errorf("recording the lease: %w", err)
		}
		return octet, nil
	}
	return 0, errors.New("every 10.213.x.0/24 is in use")
}

func release(octet int) { _ = os.Remove(leaseFile(octet)) }

func leaseFile(octet int) string { return filepath.Join(stateDir, fmt.Sprintf("%d.pid", octet)) }

func ownerOf(octet int) (int, bool) {
	b, err := os.ReadFile(leaseFile(octet))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid, err == nil
}

func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

func linkExists(name string) bool {
	_, err := net.InterfaceByName(name)
	return err == nil
}

// usedSubnets lists the 10.213.x.0/24 already configured on the host by
// something that is not a harness bridge.
func usedSubnets() map[int]bool {
	used := map[int]bool{}
	ifaces, _ := net.Interfaces()
	for _, ifc := range ifaces {
		if strings.HasPrefix(ifc.Name, "plh") {
			continue
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				if v4 := n.IP.To4(); v4 != nil && v4[0] == 10 && v4[1] == 213 {
					used[int(v4[2])] = true
				}
			}
		}
	}
	return used
}

// leftoverOctets lists the octets that have a bridge, a namespace or an
// /etc/netns entry named after them.
func leftoverOctets() map[int]bool {
	found := map[int]bool{}
	add := func(name string) {
		rest, ok := strings.CutPrefix(name, "plh")
		if !ok {
			return
		}
		digits, _, _ := strings.Cut(rest, "-")
		if n, err := strconv.Atoi(digits); err == nil && n >= 1 && n <= 254 {
			found[n] = true
		}
	}
	names, _ := netnsNames()
	for _, n := range names {
		add(n)
	}
	entries, _ := os.ReadDir("/etc/netns")
	for _, e := range entries {
		add(e.Name())
	}
	ifaces, _ := net.Interfaces()
	for _, ifc := range ifaces {
		if !strings.Contains(ifc.Name, "v") {
			add(ifc.Name)
		}
	}
	return found
}

func netnsNames() ([]string, error) {
	entries, err := os.ReadDir("/run/netns")
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names, nil
}

// sweep removes everything named after octet: the processes in its
// namespaces, the veths and namespaces, /etc/netns entries, the pod
// folders under $TMPDIR and the bridge.
func sweep(ctx context.Context, octet int) error {
	prefix := fmt.Sprintf("plh%d-", octet)
	var errs []error
	names, err := netnsNames()
	if err != nil {
		errs = append(errs, err)
	}
	// Delete the host ends of the veths first: the kernel tears a deleted
	// namespace down asynchronously, and a veth left for a moment would
	// collide with the next harness's.
	ifaces, _ := net.Interfaces()
	for _, ifc := range ifaces {
		if strings.HasPrefix(ifc.Name, fmt.Sprintf("plh%dv", octet)) {
			name, _, _ := strings.Cut(ifc.Name, "@")
			if err := ip(ctx, "link", "del", name); err != nil && linkExists(name) {
				errs = append(errs, err)
			}
		}
	}
	for _, ns := range names {
		if !strings.HasPrefix(ns, prefix) {
			continue
		}
		killNetnsProcesses(ctx, ns)
		if err := ip(ctx, "netns", "del", ns); err != nil {
			errs = append(errs, err)
		}
	}
	entries, _ := os.ReadDir("/etc/netns")
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			if err := os.RemoveAll(filepath.Join("/etc/netns", e.Name())); err != nil {
				errs = append(errs, err)
			}
		}
	}
	// The pod folders (bootstraps, logs) of that run.
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), prefix+"*"))
	for _, d := range dirs {
		if err := os.RemoveAll(d); err != nil {
			errs = append(errs, err)
		}
	}
	if bridge := fmt.Sprintf("plh%d", octet); linkExists(bridge) {
		if err := ip(ctx, "link", "del", bridge); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// killNetnsProcesses kills whatever still runs in the namespace (a killed
// test binary leaves its Envoys and apps behind).
func killNetnsProcesses(ctx context.Context, ns string) {
	out, _ := run(ctx, "ip", "netns", "pids", ns)
	for _, f := range strings.Fields(out) {
		if pid, err := strconv.Atoi(f); err == nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}
