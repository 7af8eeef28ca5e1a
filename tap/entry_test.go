package tap

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	_ "github.com/planeless/planeless/tests/golden"
)

func TestParseReadsRealEnvoyLines(t *testing.T) {
	client, server := readLog(t, "client.log"), readLog(t, "server.log")
	tests := map[string]struct {
		line []byte
		want Entry
	}{
		"an outbound REST request": {client[2], Entry{
			StartTime: time.Date(2026, 11, 22, 0, 39, 56, 155e6, time.UTC), Direction: Outbound,
			Method: "GET", Path: "/api/items?page=2", Authority: "server.shop:8080", Protocol: "HTTP/1.1",
			ResponseCode: 200, Duration: 4 * time.Millisecond, RequestID: "7e2c81a9-1f65-4199-87d8-336ff86fa924",
			UpstreamHost: "10.213.1.2:8080", UpstreamCluster: "outbound|http",
			Namespace: "shop", App: "client", Version: "v2", Pod: "client",
		}},
		"an inbound gRPC request with a gRPC error": {server[4], Entry{
			StartTime: time.Date(2026, 11, 22, 0, 39, 56, 224e6, time.UTC), Direction: Inbound,
			Method: "POST", Path: "/grpc.testing.TestService/UnaryCall", Authority: "server.shop:9090", Protocol: "HTTP/2",
			ResponseCode: 200, GRPCStatus: "NotFound", RequestID: "b254a7a2-3d59-4331-8e0e-94b5a2f4d70c",
			UpstreamHost: "127.0.0.1:9090", UpstreamCluster: "inbound|9090|grpc",
			Namespace: "shop", App: "server", Version: "v1", Pod: "server",
		}},
		"an upstream failure with response flags and null fields": {client[9], Entry{
			StartTime: time.Date(2026, 11, 22, 0, 39, 56, 312e6, time.UTC), Direction: Outbound,
			Method: "GET", Path: "/closed", Authority: "server.shop:8081", Protocol: "HTTP/1.1",
			ResponseCode: 503, ResponseFlags: "UF", Duration: 2 * time.Millisecond, RequestID: "266bb64d-a214-488c-b11e-a4bc9694c907",
			UpstreamHost: "10.213.1.2:8081", UpstreamCluster: "outbound|http",
			Namespace: "shop", App: "client", Version: "v2", Pod: "client",
		}},
		"a line with unknown fields and without most known ones": {
			[]byte(`{"direction":"inbound","response_code":"404","customer":"acme","duration":"12"}`),
			Entry{Direction: Inbound, ResponseCode: 404, Duration: 12 * time.Millisecond},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := Parse(tc.line)
			if err != nil {
				t.Fatal(err)
			}
			if string(got.Raw) != string(tc.line) {
				t.Errorf("Raw = %s, want the line", got.Raw)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.IgnoreFields(Entry{}, "Raw")); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseSkipsWhatIsNotAnAccessLogLine(t *testing.T) {
	client := readLog(t, "client.log")
	tests := map[string][]byte{
		"Envoy's own log line":           client[0],
		"another line of Envoy's log":    client[1],
		"an empty line":                  []byte("\n"),
		"a JSON line without direction":  []byte(`{"msg":"hello"}`),
		"a JSON line of another shape":   []byte(`["outbound"]`),
		"a truncated JSON line":          client[2][:40],
		"an unknown direction":           []byte(`{"direction":"sideways"}`),
		"a text-format access-log entry": []byte(`[2026-11-22T00:39:56.155Z] "GET /api/items HTTP/1.1" 200 - 0 347 4 2`),
	}
	for name, line := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := Parse(line); !errors.Is(err, ErrNotAccessLog) {
				t.Errorf("Parse(%q) error = %v, want ErrNotAccessLog", line, err)
			}
		})
	}
}

func TestParseRejectsFieldsOfTheWrongType(t *testing.T) {
	tests := map[string][]byte{
		"a status that is not a number": []byte(`{"direction":"outbound","response_code":"ok"}`),
		"a method that is an object":    []byte(`{"direction":"outbound","method":{"a":1}}`),
		"a start time that is no time":  []byte(`{"direction":"outbound","start_time":"yesterday"}`),
	}
	for name, line := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := Parse(line); err == nil || errors.Is(err, ErrNotAccessLog) {
				t.Errorf("Parse(%s) error = %v, want a field error", line, err)
			}
		})
	}
}

func TestEveryCapturedAccessLogLineParses(t *testing.T) {
	if got := len(entries(t, "client.log", clientPod)); got != 8 {
		t.Errorf("client.log has %d access-log entries, want 8", got)
	}
	if got := len(entries(t, "server.log", serverPod)); got != 8 {
		t.Errorf("server.log has %d access-log entries, want 8", got)
	}
}
