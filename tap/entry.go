package tap

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Direction says which side of a request a sidecar logged.
type Direction string

// Directions of an access-log entry, as the bootstrap writes them.
const (
	Outbound Direction = "outbound"
	Inbound  Direction = "inbound"
)

// PodRef names the pod a log line came from.
type PodRef struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

func (p PodRef) String() string { return p.Namespace + "/" + p.Name }

// Entry is one access-log line of a sidecar (the fields of
// bootstrap.AccessLogFields that tap reads). Fields the line lacks are
// zero; fields tap does not know are kept in Raw.
type Entry struct {
	// Source is the pod whose sidecar wrote the line; the streamer sets it.
	Source PodRef

	StartTime     time.Time
	Direction     Direction
	Method        string
	Path          string
	Authority     string
	Protocol      string
	ResponseCode  int
	GRPCStatus    string
	ResponseFlags string
	Duration      time.Duration
	RequestID     string
	UpstreamHost  string
	// UpstreamCluster is Envoy's cluster name, e.g. inbound|http.
	UpstreamCluster string
	// Namespace, App, Version and Pod identify the pod whose sidecar
	// wrote the line.
	Namespace, App, Version, Pod string
	// SourceWorkload and DestinationWorkload ("app.namespace") name the
	// other side when its sidecar told (newer sidecars only).
	SourceWorkload, DestinationWorkload string

	// Raw is the line as Envoy wrote it.
	Raw json.RawMessage
}

// ErrNotAccessLog is returned by Parse for lines that are not access-log
// entries, such as Envoy's own log.
var ErrNotAccessLog = errors.New("not an access-log line")

// Parse reads one line of a sidecar's log. Lines that are not a JSON
// object with a direction (Envoy's own log, text access logs) yield
// ErrNotAccessLog; a JSON value of an unexpected type yields an error
// naming the field.
func Parse(line []byte) (Entry, error) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 || line[0] != '{' {
		return Entry{}, ErrNotAccessLog
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(line, &fields); err != nil {
		return Entry{}, ErrNotAccessLog
	}
	r := reader{fields: fields}
	e := Entry{
		Direction:           Direction(r.str("direction")),
		Method:              r.str("method"),
		Path:                r.str("path"),
		Authority:           r.str("authority"),
		Protocol:            r.str("protocol"),
		ResponseCode:        int(r.num("response_code")),
		GRPCStatus:          r.str("grpc_status"),
		ResponseFlags:       r.str("response_flags"),
		Duration:            time.Duration(r.num("duration")) * time.Millisecond,
		RequestID:           r.str("request_id"),
		UpstreamHost:        r.str("upstream_host"),
		UpstreamCluster:     r.str("upstream_cluster"),
		Namespace:           r.str("namespace"),
		App:                 r.str("app"),
		Version:             r.str("version"),
		Pod:                 r.str("pod"),
		SourceWorkload:      r.str("source_workload"),
		DestinationWorkload: r.str("destination_workload"),
		Raw:                 json.RawMessage(bytes.Clone(line)),
	}
	if s := r.str("start_time"); s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil && r.err == nil {
			r.err = fmt.Errorf("field start_time: %w", err)
		}
		e.StartTime = t
	}
	if e.Direction != Outbound && e.Direction != Inbound {
		return Entry{}, ErrNotAccessLog
	}
	if r.err != nil {
		return Entry{}, r.err
	}
	return e, nil
}

// reader reads Envoy's typed JSON values: strings, numbers, and null or
// "-" for a value Envoy did not have. It keeps the first error.
type reader struct {
	fields map[string]json.RawMessage
	err    error
}

func (r *reader) str(key string) string {
	raw, ok := r.fields[key]
	if !ok {
		return ""
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		r.fail(key, err)
		return ""
	}
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		if v == "-" {
			return ""
		}
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	default:
		r.fail(key, fmt.Errorf("unexpected JSON %s", raw))
		return ""
	}
}

func (r *reader) num(key string) float64 {
	s := r.str(key)
	if s == "" {
		return 0
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil {
		r.fail(key, err)
	}
	return n
}

func (r *reader) fail(key string, err error) {
	if r.err == nil {
		r.err = fmt.Errorf("field %s: %w", key, err)
	}
}
