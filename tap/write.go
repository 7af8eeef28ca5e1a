package tap

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Writer prints requests.
type Writer interface {
	Write(Request) error
}

// JSONWriter prints one Record per line.
type JSONWriter struct{ enc *json.Encoder }

// NewJSONWriter writes to w.
func NewJSONWriter(w io.Writer) *JSONWriter {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return &JSONWriter{enc: enc}
}

// Write prints r as one JSON object.
func (j *JSONWriter) Write(r Request) error { return j.enc.Encode(NewRecord(r)) }

// TableWriter prints one aligned line per request, coloured on request.
// Columns widen as longer values arrive.
type TableWriter struct {
	w     io.Writer
	color bool
	// Location is the time zone of the TIME column (default: local).
	Location *time.Location
	widths   []int
}

var tableHeader = []string{"TIME", "FROM", "TO", "METHOD", "STATUS", "DURATION", "AUTHORITY", "PATH"}

// minWidths start the columns wide enough for typical values, so the
// header lines up with the first requests.
var minWidths = []int{12, 22, 22, 6, 12, 8, 20, 0}

// NewTableWriter writes to w; color adds ANSI colours.
func NewTableWriter(w io.Writer, color bool) *TableWriter {
	return &TableWriter{w: w, color: color}
}

// Header prints the column names.
func (t *TableWriter) Header() error {
	cells := make([]cell, len(tableHeader))
	for i, h := range tableHeader {
		cells[i] = cell{text: h, style: bold}
	}
	return t.line(cells)
}

// Write prints r as one line.
func (t *TableWriter) Write(r Request) error {
	f := r.First()
	rec := NewRecord(r)
	when := "-"
	if !f.StartTime.IsZero() {
		loc := t.Location
		if loc == nil {
			loc = time.Local
		}
		when = f.StartTime.In(loc).Format("15:04:05.000")
	}
	// A pod when its sidecar was seen, else the workload the other
	// sidecar reported, else (for a destination) the address.
	from, to := "-", "-"
	if s := rec.Source; s != nil {
		from = cmp.Or(s.Pod, s.Workload, "-")
	}
	if d := rec.Destination; d != nil {
		to = cmp.Or(d.Pod, d.Workload, d.Address, "-")
	}
	return t.line([]cell{
		{text: when, style: dim},
		{text: from},
		{text: to},
		{text: orDash(f.Method)},
		{text: status(f), style: statusStyle(f)},
		{text: duration(f.Duration)},
		{text: orDash(f.Authority)},
		{text: orDash(f.Path)},
	})
}

type cell struct {
	text  string
	style string
}

// ANSI styles.
const (
	reset  = "\x1b[0m"
	bold   = "\x1b[1m"
	dim    = "\x1b[2m"
	red    = "\x1b[31m"
	green  = "\x1b[32m"
	yellow = "\x1b[33m"
	cyan   = "\x1b[36m"
)

func (t *TableWriter) line(cells []cell) error {
	if t.widths == nil {
		t.widths = slices.Clone(minWidths)
	}
	var b strings.Builder
	for i, c := range cells {
		n := utf8.RuneCountInString(c.text)
		t.widths[i] = max(t.widths[i], n)
		if t.color && c.style != "" {
			b.WriteString(c.style + c.text + reset)
		} else {
			b.WriteString(c.text)
		}
		if i < len(cells)-1 {
			b.WriteString(strings.Repeat(" ", t.widths[i]-n+2))
		}
	}
	b.WriteByte('\n')
	_, err := io.WriteString(t.w, b.String())
	return err
}

// status is the response code, the gRPC status when there is one, and
// Envoy's response flags when there are any: "200", "200 NotFound",
// "503 UF".
func status(e *Entry) string {
	parts := []string{strconv.Itoa(e.ResponseCode)}
	if e.GRPCStatus != "" {
		parts = append(parts, e.GRPCStatus)
	}
	if e.ResponseFlags != "" {
		parts = append(parts, e.ResponseFlags)
	}
	return strings.Join(parts, " ")
}

func statusStyle(e *Entry) string {
	switch {
	case e.ResponseCode == 0 || e.ResponseCode >= 500 || e.ResponseFlags != "":
		return red
	case e.ResponseCode >= 400 || (e.GRPCStatus != "" && e.GRPCStatus != "OK"):
		return yellow
	case e.ResponseCode >= 300:
		return cyan
	default:
		return green
	}
}

func duration(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return d.Round(time.Millisecond).String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
