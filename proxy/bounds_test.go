package proxy

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/planeless/planeless/tests/pods"
)

// hostile are pods written to make admission expensive or its answer huge.
// Each must be answered with short lines, allocating a bounded amount
// whatever the size of what the pod says.
func hostile() map[string]*corev1.Pod {
	names := make([]string, len(Annotations))
	for i, a := range Annotations {
		names[i] = a.Name
	}
	return pods.Hostile(names)
}

// maxLine bounds one warning or one problem of a refusal: a quoted value
// of MaxEcho bytes, an annotation name, a reason and the allowed values.
const maxLine = 1 << 10

// maxLines bounds the lines of one answer: one per annotation, the pod's
// problems, and the counts of what was left out.
var maxLines = len(Annotations) + maxPodProblems + 2

func TestHostilePodsGetShortAnswers(t *testing.T) {
	for name, pod := range hostile() {
		t.Run(name, func(t *testing.T) {
			_, warnings, err := FromPod(pod, DefaultDefaults())
			lines := warnings
			if err != nil {
				lines = append(lines, strings.Split(err.Error(), "\n")...)
			}
			if err == nil && len(warnings) == 0 {
				t.Fatal("the pod was accepted without a word")
			}
			if len(lines) > maxLines {
				t.Errorf("%d lines, more than %d", len(lines), maxLines)
			}
			for _, l := range lines {
				if len(l) > maxLine {
					t.Errorf("a line of %d bytes, more than %d: %.200s…", len(l), maxLine, l)
				}
			}
		})
	}
}

// What the pod says does not change what reading it costs: every hostile
// pod is read within a fixed allocation budget (bytes allocated, measured,
// not time).
func TestHostilePodsCostABoundedAmount(t *testing.T) {
	const budget = 128 << 10
	for name, pod := range hostile() {
		t.Run(name, func(t *testing.T) {
			if got := allocated(func() { _, _, _ = FromPod(pod, DefaultDefaults()) }); got > budget {
				t.Errorf("reading the pod allocated %d KiB, more than %d KiB", got>>10, budget>>10)
			}
		})
	}
}

// allocated returns the bytes f allocates, averaged over a few runs.
func allocated(f func()) uint64 {
	const runs = 5
	f() // warm up lazily built state
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		f()
	}
	runtime.ReadMemStats(&after)
	return (after.TotalAlloc - before.TotalAlloc) / runs
}

func TestListsAndTheirBounds(t *testing.T) {
	tests := map[string]struct {
		key, value string
		check      func(t *testing.T, s *Spec)
		wantErr    string
	}{
		"a port range takes the protocol": {
			key: Prefix + "ports", value: "8000-8002:grpc,9000",
			check: func(t *testing.T, s *Spec) {
				want := []Port{{8000, ProtocolGRPC, true}, {8001, ProtocolGRPC, true}, {8002, ProtocolGRPC, true}, {9000, ProtocolAuto, false}}
				if fmt.Sprint(s.Inbound) != fmt.Sprint(want) {
					t.Errorf("inbound = %v, want %v", s.Inbound, want)
				}
			},
		},
		"a range overlapping a port is listed twice": {key: Prefix + "ports", value: "8001,8000-8002", wantErr: "port 8001 is listed twice"},
		"a backwards range is refused":               {key: Prefix + "ports", value: "8010-8000", wantErr: `port range "8010-8000" ends before it starts`},
		"a range past the bound is refused":          {key: Prefix + "ports", value: "1000-1256", wantErr: "more than 256 ports"},
		"the bound itself is accepted": {
			key: Prefix + "exclude-inbound-ports", value: "1000-1255",
			check: func(t *testing.T, s *Spec) {
				if len(s.ExcludeInboundPorts) != MaxPorts {
					t.Errorf("%d ports, want %d", len(s.ExcludeInboundPorts), MaxPorts)
				}
			},
		},
		"excluded ports take ranges": {
			key: Prefix + "exclude-outbound-ports", value: "5432, 30000-30002",
			check: func(t *testing.T, s *Spec) {
				if joinPorts(s.ExcludeOutboundPorts) != "5432, 30000, 30001, 30002" {
					t.Errorf("ports = %v", s.ExcludeOutboundPorts)
				}
			},
		},
		"CIDRs past the bound are refused": {
			key: Prefix + "exclude-inbound-cidrs", value: strings.Repeat("10.0.0.1,", MaxCIDRs) + "10.0.0.2",
			wantErr: "more than 64 CIDRs",
		},
		"a value past the byte bound is refused before it is read": {
			key: Prefix + "proxy-image", value: strings.Repeat("a", MaxAnnotationBytes+1),
			wantErr: "4097 bytes, more than the 4096 this annotation may hold",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s, _, err := FromPod(testPod(pods.Annotation(tc.key, tc.value)), DefaultDefaults())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
				}
				var invalid *InvalidAnnotationError
				if !errors.As(err, &invalid) || invalid.Annotation != tc.key {
					t.Errorf("the error does not name the annotation %s: %v", tc.key, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			tc.check(t, s)
		})
	}
}

func TestUnknownAnnotationsAreBounded(t *testing.T) {
	a := map[string]string{}
	for i := range 12 {
		a[fmt.Sprintf("%sunknown-%02d", Prefix, i)] = "x"
	}
	a[Prefix+"egres"] = "false"
	_, warnings, err := FromPod(testPod(pods.Annotations(a)), DefaultDefaults())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"unknown annotation planeless.dev/egres is ignored; did you mean planeless.dev/egress?",
		"unknown annotation planeless.dev/unknown-00 is ignored",
		"unknown annotation planeless.dev/unknown-01 is ignored",
		"unknown annotation planeless.dev/unknown-02 is ignored",
		"unknown annotation planeless.dev/unknown-03 is ignored",
		"8 more unknown planeless.dev/ annotations are ignored",
	}
	if strings.Join(warnings, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(warnings, "\n"), strings.Join(want, "\n"))
	}
}

func TestEchoCutsLongValues(t *testing.T) {
	tests := map[string]struct{ in, want string }{
		"a short value is quoted whole": {"8080:quic", `"8080:quic"`},
		"a long value is cut and says so": {strings.Repeat("a", 200),
			`"` + strings.Repeat("a", MaxEcho) + `"… (200 bytes, truncated)`},
		"a cut never splits a character": {strings.Repeat("a", MaxEcho-1) + "é" + "b",
			`"` + strings.Repeat("a", MaxEcho-1) + `"… (130 bytes, truncated)`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := Echo(tc.in); got != tc.want {
				t.Errorf("Echo = %s, want %s", got, tc.want)
			}
		})
	}
}
