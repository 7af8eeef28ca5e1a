package node

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cgroupHierarchies are the cgroup v1 hierarchies mounted on this machine
// (under cgroup v2, the one unified tree "").
func cgroupHierarchies() []string {
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		return []string{""}
	}
	entries, err := os.ReadDir("/sys/fs/cgroup")
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join("/sys/fs/cgroup", e.Name(), "cgroup.procs")); err == nil {
			out = append(out, e.Name())
		}
	}
	return out
}

// Down removes everything the node made: its processes and its pods'
// (found by network and mount namespace and by cgroup, so also after an
// interrupted run), the cgroups, the network namespace (the veth pair goes
// with it) and the node's folder. It is safe to call on a node that is
// not there.
func (c *Cluster) Down() error {
	var errs []error
	for round := 0; round < 50; round++ {
		pids := c.processes()
		if len(pids) == 0 {
			break
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(100 * time.Millisecond)
		if round == 49 {
			errs = append(errs, fmt.Errorf("processes %v survive SIGKILL", pids))
		}
	}
	for _, ctl := range cgroupHierarchies() {
		if err := removeCgroup(filepath.Join("/sys/fs/cgroup", ctl, c.cgroup())); err != nil {
			errs = append(errs, err)
		}
	}
	if _, err := os.Stat("/run/netns/" + c.netns()); err == nil {
		if _, err := run(context.Background(), "ip", "netns", "del", c.netns()); err != nil {
			errs = append(errs, err)
		}
	}
	if _, err := os.Stat("/sys/class/net/" + c.hostLink()); err == nil {
		if _, err := run(context.Background(), "ip", "link", "del", c.hostLink()); err != nil {
			errs = append(errs, err)
		}
	}
	if err := os.RemoveAll(c.Dir); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// processes returns every process of the node: in its network namespace
// (the daemons and the shims), in its mount namespace, or in its cgroup
// (the containers, in pods' own namespaces).
func (c *Cluster) processes() []int {
	netns := inode("/run/netns/" + c.netns())
	var mntns uint64
	if data, err := os.ReadFile(c.path("pids", "holder")); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil {
			if cmd, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil && strings.Contains(string(cmd), "sleep") {
				mntns = inode(fmt.Sprintf("/proc/%d/ns/mnt", pid))
			}
		}
	}
	cgroup := "/" + c.cgroup() + "/"
	self := os.Getpid()
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		dir := "/proc/" + e.Name()
		hit := (netns != 0 && inode(dir+"/ns/net") == netns) || (mntns != 0 && inode(dir+"/ns/mnt") == mntns)
		if !hit {
			if data, err := os.ReadFile(dir + "/cgroup"); err == nil && strings.Contains(string(data), cgroup) {
				hit = true
			}
		}
		if hit {
			out = append(out, pid)
		}
	}
	return out
}

func inode(path string) uint64 {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return 0
	}
	return st.Ino
}

// removeCgroup removes a cgroup folder and its children, deepest first.
func removeCgroup(root string) error {
	if _, err := os.Stat(root); err != nil {
		return nil
	}
	var dirs []string
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	slices.Reverse(dirs)
	var last error
	for try := 0; try < 50; try++ {
		last = nil
		for _, d := range dirs {
			if err := syscall.Rmdir(d); err != nil && !errors.Is(err, syscall.ENOENT) {
				last = fmt.Errorf("removing cgroup %s: %w", d, err)
			}
		}
		if last == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return last
}
