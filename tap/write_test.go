package tap

import (
	"bytes"
	"cmp"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/planeless/planeless/tests/golden"
)

// shopRequests pairs the captured entries as tap would: seven pairs, then
// the two entries that have no other side.
func shopRequests(t *testing.T) []Request {
	t.Helper()
	now := time.Now()
	p := &Pairer{Wait: time.Second}
	var rs []Request
	for _, e := range shopEntries(t) {
		rs = append(rs, p.Add(e, now)...)
	}
	return append(rs, p.Flush()...)
}

func TestTableWriter(t *testing.T) {
	for name, color := range map[string]bool{"plain": false, "color": true} {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			w := NewTableWriter(&b, color)
			w.Location = time.UTC
			if err := w.Header(); err != nil {
				t.Fatal(err)
			}
			for _, r := range shopRequests(t) {
				if err := w.Write(r); err != nil {
					t.Fatal(err)
				}
			}
			if !color && strings.Contains(b.String(), "\x1b[") {
				t.Error("the plain table has ANSI escapes")
			}
			golden.Assert(t, "testdata/shop."+name+".golden", b.Bytes())
		})
	}
}

func TestJSONWriterPrintsOneObjectPerRequest(t *testing.T) {
	var b bytes.Buffer
	w := NewJSONWriter(&b)
	rs := shopRequests(t)
	for _, r := range rs {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != len(rs) {
		t.Fatalf("%d lines for %d requests", len(lines), len(rs))
	}
	for _, l := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Errorf("line %s is not a JSON object: %v", l, err)
		}
	}
	golden.Assert(t, "testdata/shop.json.golden", b.Bytes())
}

// TestOneSidedRequestsNameTheOtherWorkload: with one side seen (a
// deploy/ or pod/ target), FROM and TO fall back to the workload the other
// side's sidecar reported (source_workload, destination_workload), then to
// the address. The lines are real, from sidecars that report workloads.
func TestOneSidedRequestsNameTheOtherWorkload(t *testing.T) {
	es := entries(t, "current.log", serverPod)
	es[2].Source, es[3].Source = clientPod, clientPod
	tests := map[string]struct {
		entry    Entry
		from, to string
	}{
		"an inbound request from a pod with a sidecar": {es[0], "client.shop", serverPod.Name},
		"an inbound request from a caller without one": {es[1], "", serverPod.Name},
		"an outbound request to a pod with a sidecar":  {es[2], clientPod.Name, "server.shop"},
		"an outbound request nothing answered":         {es[3], clientPod.Name, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			rec := NewRecord(single(tc.entry))
			var from, to string
			if rec.Source != nil {
				from = cmp.Or(rec.Source.Pod, rec.Source.Workload)
			}
			if rec.Destination != nil {
				to = cmp.Or(rec.Destination.Pod, rec.Destination.Workload)
			}
			if from != tc.from || to != tc.to {
				t.Errorf("from %q to %q, want from %q to %q", from, to, tc.from, tc.to)
			}
		})
	}
	t.Run("the table shows them", func(t *testing.T) {
		var b bytes.Buffer
		w := NewTableWriter(&b, false)
		w.Location = time.UTC
		for _, e := range es {
			if err := w.Write(single(e)); err != nil {
				t.Fatal(err)
			}
		}
		golden.Assert(t, "testdata/current.golden", b.Bytes())
	})
}
