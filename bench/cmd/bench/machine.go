package main

import (
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"

	"github.com/planeless/planeless/bench/proc"
	"github.com/planeless/planeless/bench/report"
)

func machine() report.Machine {
	m := report.Machine{Cores: runtime.NumCPU(), Go: runtime.Version(), LoadAvgStart: proc.LoadAverage()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				m.MemoryBytes = kb * 1024
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	m.Envoy = "unknown"
	if envoy := os.Getenv("PLANELESS_ENVOY"); envoy != "" {
		if out, err := exec.Command(envoy, "--version").Output(); err == nil {
			// "envoy  version: <sha>/1.40.0/Clean/RELEASE/BoringSSL"
			for f := range strings.SplitSeq(string(out), "/") {
				if len(f) > 0 && f[0] >= '0' && f[0] <= '9' && strings.Count(f, ".") == 2 {
					m.Envoy = f
				}
			}
		}
	}
	return m
}
