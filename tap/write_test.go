package tap

import (
	"bytes"
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
