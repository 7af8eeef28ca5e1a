package tap

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// describe names a request: "client→server GET /path" with "?" for a side
// not seen.
func describe(r Request) string {
	from, to := "?", "?"
	if r.Outbound != nil {
		from = r.Outbound.App
	}
	if r.Inbound != nil {
		to = r.Inbound.App
	}
	f := r.First()
	return fmt.Sprintf("%s→%s %s %s", from, to, f.Method, f.Path)
}

func describeAll(rs []Request) []string {
	var out []string
	for _, r := range rs {
		out = append(out, describe(r))
	}
	return out
}

func TestPairerJoinsTheClientAndServerSidesOfRealRequests(t *testing.T) {
	client, server := entries(t, "client.log", clientPod), entries(t, "server.log", serverPod)
	now := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	p := &Pairer{Wait: 2 * time.Second, Max: 100}

	// The server's line of a request comes first (it answers first), the
	// client's after it, interleaved with other requests.
	var got []Request
	for i := range max(len(client), len(server)) {
		if i < len(server) {
			got = append(got, p.Add(server[i], now)...)
		}
		if i < len(client) {
			got = append(got, p.Add(client[i], now)...)
		}
	}
	want := []string{
		"client→server GET /api/items?page=2",
		"client→server GET /api/fail?status=503",
		"client→server GET /healthz?status=404",
		"client→server POST /grpc.testing.TestService/UnaryCall",
		"client→server POST /grpc.testing.TestService/UnaryCall",
		"client→server POST /api/orders",
		"client→server DELETE /api/orders/7",
	}
	if diff := cmp.Diff(want, describeAll(got)); diff != "" {
		t.Errorf("pairs (-want +got):\n%s", diff)
	}
	for _, r := range got {
		if r.Outbound.RequestID != r.Inbound.RequestID || r.Outbound.Source != clientPod || r.Inbound.Source != serverPod {
			t.Errorf("pair of %s joins %s (%s) with %s (%s)", describe(r),
				r.Outbound.RequestID, r.Outbound.Source, r.Inbound.RequestID, r.Inbound.Source)
		}
	}

	if got := p.Expire(now.Add(time.Second)); len(got) != 0 {
		t.Errorf("entries expired before their wait ended: %v", describeAll(got))
	}
	if next, ok := p.Next(); !ok || !next.Equal(now.Add(2*time.Second)) {
		t.Errorf("Next() = %v, %v; want %v", next, ok, now.Add(2*time.Second))
	}
	lonely := []string{
		"?→server GET /from-outside", // the caller has no sidecar
		"client→? GET /closed",       // nothing listens: no server side
	}
	if diff := cmp.Diff(lonely, describeAll(p.Expire(now.Add(2*time.Second)))); diff != "" {
		t.Errorf("unpaired entries after the wait (-want +got):\n%s", diff)
	}
	if _, ok := p.Next(); ok {
		t.Error("entries still wait after all expired")
	}
}

func TestPairer(t *testing.T) {
	now := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	entry := func(d Direction, id, method, authority, path, app string) Entry {
		return Entry{Direction: d, RequestID: id, Method: method, Authority: authority, Path: path, App: app}
	}
	type step struct {
		entry Entry
		at    time.Duration
	}
	tests := map[string]struct {
		pairer Pairer
		steps  []step
		// want are the requests returned by the steps, then by Flush.
		want []string
	}{
		"two entries of the same direction are not a pair": {
			pairer: Pairer{Wait: time.Second},
			steps: []step{
				{entry(Outbound, "r1", "GET", "a", "/x", "client"), 0},
				{entry(Outbound, "r1", "GET", "a", "/x", "client2"), 0},
			},
			want: []string{"client→? GET /x", "client2→? GET /x"},
		},
		"the hops of a chain that forwards x-request-id pair by authority": {
			pairer: Pairer{Wait: time.Second},
			steps: []step{
				{entry(Inbound, "r1", "GET", "b:80", "/x", "b"), 0},  // b answers a
				{entry(Inbound, "r1", "GET", "c:80", "/y", "c"), 0},  // c answers b
				{entry(Outbound, "r1", "GET", "c:80", "/y", "b"), 0}, // b called c
				{entry(Outbound, "r1", "GET", "b:80", "/x", "a"), 0}, // a called b
			},
			want: []string{"b→c GET /y", "a→b GET /x"},
		},
		"an entry without a request id is printed at once": {
			pairer: Pairer{Wait: time.Second},
			steps:  []step{{entry(Inbound, "", "GET", "a", "/x", "server"), 0}},
			want:   []string{"?→server GET /x"},
		},
		"no wait prints every entry at once": {
			steps: []step{
				{entry(Inbound, "r1", "GET", "a", "/x", "server"), 0},
				{entry(Outbound, "r1", "GET", "a", "/x", "client"), 0},
			},
			want: []string{"?→server GET /x", "client→? GET /x"},
		},
		"Max pushes out the oldest waiting entry": {
			pairer: Pairer{Wait: time.Hour, Max: 2},
			steps: []step{
				{entry(Outbound, "r1", "GET", "a", "/1", "client"), 0},
				{entry(Outbound, "r2", "GET", "a", "/2", "client"), 0},
				{entry(Outbound, "r3", "GET", "a", "/3", "client"), 0},
				{entry(Inbound, "r3", "GET", "a", "/3", "server"), 0},
			},
			want: []string{"client→? GET /1", "client→server GET /3", "client→? GET /2"},
		},
		"a side that comes after the wait is not paired": {
			pairer: Pairer{Wait: time.Second},
			steps: []step{
				{entry(Outbound, "r1", "GET", "a", "/x", "client"), 0},
				{entry(Inbound, "r1", "GET", "a", "/x", "server"), 2 * time.Second},
			},
			want: []string{"client→? GET /x", "?→server GET /x"},
		},
		"a retry's second inbound entry is left alone": {
			pairer: Pairer{Wait: time.Second},
			steps: []step{
				{entry(Inbound, "r1", "GET", "a", "/x", "server"), 0},
				{entry(Inbound, "r1", "GET", "a", "/x", "server"), 0},
				{entry(Outbound, "r1", "GET", "a", "/x", "client"), 0},
			},
			want: []string{"client→server GET /x", "?→server GET /x"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p := tc.pairer
			var got []Request
			for _, s := range tc.steps {
				got = append(got, p.Expire(now.Add(s.at))...)
				got = append(got, p.Add(s.entry, now.Add(s.at))...)
			}
			got = append(got, p.Flush()...)
			if diff := cmp.Diff(tc.want, describeAll(got)); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
}
