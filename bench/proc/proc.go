// Package proc reads a process's memory and CPU time from /proc.
package proc

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, 100 on every Linux architecture Go supports.
const clockTicks = 100

// Memory is a process's resident set, in bytes.
type Memory struct {
	RSS  int64 // Rss: resident now
	Peak int64 // VmHWM: the most it has been resident
	// Anon is RssAnon: the private part of RSS. The rest is mostly the
	// binary's own pages, which every process running the same file shares.
	Anon int64
	// PSS is the proportional set size (smaps_rollup Pss): private pages,
	// plus each shared page divided by the processes sharing it, so the
	// PSS of every sidecar of a node adds up to what they take together.
	PSS int64
	// Private is every page only this process maps (Private_Clean plus
	// Private_Dirty): what stopping it would free. With one Envoy on the
	// machine its binary's pages are private too; Anon is the part that
	// stays private however many sidecars run.
	Private int64
}

// MemoryOf reads /proc/<pid>/status and /proc/<pid>/smaps_rollup.
func MemoryOf(pid int) (Memory, error) {
	var m Memory
	var privateClean, privateDirty int64
	for _, f := range []struct {
		file   string
		fields map[string]*int64
	}{
		// RSS from the same reading as PSS and Private, which it bounds,
		// and before the peak, which bounds it.
		{"smaps_rollup", map[string]*int64{"Rss": &m.RSS, "Pss": &m.PSS, "Private_Clean": &privateClean, "Private_Dirty": &privateDirty}},
		{"status", map[string]*int64{"VmHWM": &m.Peak, "RssAnon": &m.Anon}},
	} {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, f.file))
		if err != nil {
			return Memory{}, fmt.Errorf("reading %s of process %d: %w", f.file, pid, err)
		}
		for line := range strings.SplitSeq(string(b), "\n") {
			k, v, ok := strings.Cut(line, ":")
			dst := f.fields[k]
			if !ok || dst == nil {
				continue
			}
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return Memory{}, fmt.Errorf("parsing %s of process %d: %w", k, pid, err)
			}
			*dst = kb * 1024
		}
	}
	m.Private = privateClean + privateDirty
	return m, nil
}

// CPUSeconds is the user plus system CPU time process pid has used.
func CPUSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("reading stat of process %d: %w", pid, err)
	}
	// The command name may hold spaces and parentheses: fields start after
	// the last ')'.
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	// fields[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(fields) < 13 {
		return 0, fmt.Errorf("short stat of process %d", pid)
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("parsing stat of process %d: %q", pid, s)
	}
	return float64(utime+stime) / clockTicks, nil
}

// Comm is the process's command name (e.g. "envoy").
func Comm(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	return strings.TrimSpace(string(b))
}

// LoadAverage is the machine's 1-minute load average, 0 when unknown.
func LoadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(b))
	if len(fields) == 0 {
		return 0
	}
	f, _ := strconv.ParseFloat(fields[0], 64)
	return f
}
