package dataplane

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/planeless/planeless/bench/envoyquickly"
	"github.com/planeless/planeless/tests/apps/echo"
	"github.com/planeless/planeless/tests/harness"
)

// Counts are the requests each sidecar of a path says it handled.
type Counts struct {
	// ClientOut is the client Envoy's outbound HTTP requests (REST and
	// gRPC); ServerREST and ServerGRPC the server Envoy's requests to the
	// app's HTTP/1.1 and HTTP/2 clusters.
	ClientOut, ServerREST, ServerGRPC float64
}

// Sub is c - o.
func (c Counts) Sub(o Counts) Counts {
	return Counts{c.ClientOut - o.ClientOut, c.ServerREST - o.ServerREST, c.ServerGRPC - o.ServerGRPC}
}

// Count reads the path's sidecars' request counters: planeless's from the
// stats listener Prometheus scrapes, envoy-quickly's from its admin.
func (b *Bench) Count(t testing.TB, p *Path) (Counts, error) {
	t.Helper()
	switch p.Name {
	case Planeless, PlanelessNoLog:
		client, server := p.Client.Stats(t), p.Server.Stats(t)
		return Counts{
			ClientOut:  client.Sum("envoy_http_downstream_rq_total", map[string]string{"envoy_http_conn_manager_prefix": "outbound_http"}),
			ServerREST: server.Sum("envoy_cluster_upstream_rq_total", map[string]string{"envoy_cluster_name": "inbound|http"}),
			ServerGRPC: server.Sum("envoy_cluster_upstream_rq_total", map[string]string{"envoy_cluster_name": "inbound|grpc"}),
		}, nil
	case EnvoyQuickly:
		client, err := adminStats(t.Context(), p.Client)
		if err != nil {
			return Counts{}, err
		}
		server, err := adminStats(t.Context(), p.Server)
		if err != nil {
			return Counts{}, err
		}
		return Counts{
			ClientOut:  client["http.egress_http.downstream_rq_total"],
			ServerREST: server["cluster.rest_local_service.upstream_rq_total"],
			ServerGRPC: server["cluster.grpc_local_service.upstream_rq_total"],
		}, nil
	}
	return Counts{}, fmt.Errorf("path %s has no sidecars", p.Name)
}

// adminStats reads envoy-quickly's /stats from inside the pod (admin is on
// loopback) as root, which its rules leave alone.
func adminStats(ctx context.Context, p *harness.Pod) (map[string]float64, error) {
	out, err := p.Exec(ctx, 0, "testapp", "get", fmt.Sprintf("http://127.0.0.1:%d/stats?filter=rq_total", envoyquickly.AdminPort))
	if err != nil {
		return nil, fmt.Errorf("%s: admin stats: %w", p.Name, err)
	}
	var resp echo.Response
	if err := json.Unmarshal([]byte(out), &resp); err != nil || resp.Status != 200 {
		return nil, fmt.Errorf("%s: admin stats: status %d %s (%v)", p.Name, resp.Status, resp.Error, err)
	}
	stats := map[string]float64{}
	for line := range strings.SplitSeq(resp.Body, "\n") {
		k, v, ok := strings.Cut(line, ": ")
		if !ok {
			continue
		}
		if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
			stats[k] = f
		}
	}
	return stats, nil
}
