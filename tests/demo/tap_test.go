package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/planeless/planeless/tap"
	"github.com/planeless/planeless/tests/need"
)

// The demo's tap view of log files is `planeless tap`'s: tap's own
// captured sidecar logs (tap/testdata, real Envoy lines) give tap's own
// table (tap/testdata/shop.plain.golden), and --status keeps its rows.
func TestTapViewOfLogFilesIsTapsOwn(t *testing.T) {
	testdata := filepath.Join(need.RepoRoot(), "tap", "testdata")
	read := func(name string) string {
		data, err := os.ReadFile(filepath.Join(testdata, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	var entries []tap.Entry
	for _, log := range []struct {
		file string
		pod  tap.PodRef
	}{
		{"client.log", tap.PodRef{Namespace: "shop", Name: "client-6f7d9c8b4-x2x7k"}},
		{"server.log", tap.PodRef{Namespace: "shop", Name: "server-5d8f7b6c9-m4q2z"}},
	} {
		es, err := parseSidecarLog(log.pod, read(log.file))
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, es...)
	}
	slices.SortStableFunc(entries, func(a, b tap.Entry) int { return a.StartTime.Compare(b.StartTime) })

	golden := read("shop.plain.golden")
	lines := strings.SplitAfter(golden, "\n")
	only := func(substr string) string {
		out := lines[0]
		for _, l := range lines[1:] {
			if strings.Contains(l, substr) {
				out += l
			}
		}
		return out
	}
	status, err := tap.ParseStatus("500-599")
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		filter tap.Filter
		want   string
	}{
		"every request once, client and server sides paired": {tap.Filter{}, golden},
		"--status 500-599 keeps the 5xx requests":            {tap.Filter{Status: status}, only(" 503 ")},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := tapTable(tapRequests(entries, tc.filter), false, time.UTC)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("tap table (-want +got):\n%s", diff)
			}
		})
	}
}
