package tap

import (
	"encoding/json"
	"time"
)

// Record is the JSON form of a Request (-o json): a summary of the request
// for jq, then each side's line as Envoy wrote it, unknown fields included.
type Record struct {
	RequestID     string `json:"request_id,omitempty"`
	StartTime     string `json:"start_time,omitempty"`
	Method        string `json:"method,omitempty"`
	Authority     string `json:"authority,omitempty"`
	Path          string `json:"path,omitempty"`
	Protocol      string `json:"protocol,omitempty"`
	ResponseCode  int    `json:"response_code"`
	GRPCStatus    string `json:"grpc_status,omitempty"`
	ResponseFlags string `json:"response_flags,omitempty"`
	// DurationMS is the client's view when the outbound side was seen.
	DurationMS int64 `json:"duration_ms"`
	Paired     bool  `json:"paired"`
	// Source is the client pod, known when its sidecar logged the request.
	Source *Peer `json:"source,omitempty"`
	// Destination is the server pod, or just the address the client's
	// sidecar sent the request to when the server's side was not seen.
	Destination *Peer           `json:"destination,omitempty"`
	Outbound    json.RawMessage `json:"outbound,omitempty"`
	Inbound     json.RawMessage `json:"inbound,omitempty"`
}

// Peer is one end of a request.
type Peer struct {
	Namespace string `json:"namespace,omitempty"`
	Pod       string `json:"pod,omitempty"`
	App       string `json:"app,omitempty"`
	Version   string `json:"version,omitempty"`
	// Workload is "app.namespace" as the other side's sidecar reported it,
	// when this side's sidecar was not seen.
	Workload string `json:"workload,omitempty"`
	// Address is the upstream host:port the client's sidecar connected to.
	Address string `json:"address,omitempty"`
}

// NewRecord summarises r.
func NewRecord(r Request) Record {
	f := r.First()
	rec := Record{
		RequestID:     f.RequestID,
		Method:        f.Method,
		Authority:     f.Authority,
		Path:          f.Path,
		Protocol:      f.Protocol,
		ResponseCode:  f.ResponseCode,
		GRPCStatus:    f.GRPCStatus,
		ResponseFlags: f.ResponseFlags,
		DurationMS:    f.Duration.Milliseconds(),
		Paired:        r.Paired(),
	}
	if !f.StartTime.IsZero() {
		rec.StartTime = f.StartTime.UTC().Format(time.RFC3339Nano)
	}
	if o := r.Outbound; o != nil {
		rec.Source = peerOf(o)
		rec.Destination = &Peer{Workload: o.DestinationWorkload, Address: o.UpstreamHost}
		rec.Outbound = o.Raw
	}
	if in := r.Inbound; in != nil {
		if rec.Source == nil && in.SourceWorkload != "" {
			rec.Source = &Peer{Workload: in.SourceWorkload}
		}
		dst := peerOf(in)
		if rec.Destination != nil {
			dst.Address = rec.Destination.Address
		}
		rec.Destination = dst
		rec.Inbound = in.Raw
	}
	return rec
}

func peerOf(e *Entry) *Peer {
	ns := e.Source.Namespace
	if ns == "" {
		ns = e.Namespace
	}
	pod := e.Source.Name
	if pod == "" {
		pod = e.Pod
	}
	return &Peer{Namespace: ns, Pod: pod, App: e.App, Version: e.Version}
}
