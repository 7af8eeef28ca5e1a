package dataplane

import (
	"fmt"
	"testing"
)

// TestStatsCountExactlyTheRequestsSent sends a known number of requests
// and reads them back from both Envoys: inbound on the server, outbound
// on the client, and per destination on the client.
func TestStatsCountExactlyTheRequestsSent(t *testing.T) {
	t.Parallel()
	s := startShop(t)
	serverBefore, clientBefore := s.server.Stats(t), s.client.Stats(t)

	const restOK, restFailed, grpcCalls = 3, 2, 4
	for range restOK {
		if r := s.client.Get(t, "http://server:8080/ok"); r.Status != 200 {
			t.Fatalf("REST: status %d %s", r.Status, r.Error)
		}
	}
	for range restFailed {
		if r := s.client.Get(t, "http://server:8080/fail?status=500"); r.Status != 500 {
			t.Fatalf("REST: status %d %s, want 500", r.Status, r.Error)
		}
	}
	for range grpcCalls {
		if r := s.client.GRPC(t, "-target", "server:9090"); r.Code != "OK" {
			t.Fatalf("gRPC: %s %s", r.Code, r.Message)
		}
	}
	serverAfter, clientAfter := s.server.Stats(t), s.client.Stats(t)

	tests := map[string]struct {
		before, after interface {
			Sum(string, map[string]string) float64
		}
		name  string
		match map[string]string
		want  float64
	}{
		"the server's HTTP/1.1 cluster counts every REST request": {
			before: serverBefore, after: serverAfter, name: upstreamRqTotal,
			match: cluster("inbound|http"), want: restOK + restFailed,
		},
		"the server's HTTP/1.1 cluster counts the 500s by code": {
			before: serverBefore, after: serverAfter, name: upstreamRq,
			match: map[string]string{"envoy_cluster_name": "inbound|http", "envoy_response_code": "500"}, want: restFailed,
		},
		"the server's HTTP/2 cluster counts every gRPC call": {
			before: serverBefore, after: serverAfter, name: upstreamRqTotal,
			match: cluster("inbound|grpc"), want: grpcCalls,
		},
		"the client's outbound listener counts every request": {
			before: clientBefore, after: clientAfter, name: downstreamRqTotal,
			match: map[string]string{"envoy_http_conn_manager_prefix": "outbound_http"}, want: restOK + restFailed + grpcCalls,
		},
		// One cluster per destination the app dialled, named by its
		// address: the server's IP, not the Host header.
		"the client counts the REST requests under their destination, the server's IP and port 8080": {
			before: clientBefore, after: clientAfter, name: upstreamRqTotal,
			match: cluster(fmt.Sprintf("DFPCluster_%s_8080", s.server.IP)), want: restOK + restFailed,
		},
		"the client counts the gRPC calls under their destination, the server's IP and port 9090": {
			before: clientBefore, after: clientAfter, name: upstreamRqTotal,
			match: cluster(fmt.Sprintf("DFPCluster_%s_9090", s.server.IP)), want: grpcCalls,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tc.after.Sum(tc.name, tc.match) - tc.before.Sum(tc.name, tc.match); got != tc.want {
				t.Errorf("%s%v grew by %v, want %v", tc.name, tc.match, got, tc.want)
			}
		})
	}
}
