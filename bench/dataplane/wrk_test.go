package dataplane

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/planeless/planeless/bench/load"
)

func TestParseWrkReadsCountsAndLatency(t *testing.T) {
	out := `Running 3s test @ http://p-server:8080/
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     4.59ms    1.62ms  18.17ms   80.12%
    Req/Sec     1.76k   123.45     2.01k    70.00%
  Latency Distribution
     50%    4.28ms
     75%    5.10ms
     90%    6.99ms
     99%   10.65ms
  10568 requests in 3.01s, 14.55MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:   3510.96
Transfer/sec:      4.83MB
`
	got, err := parseWrk(out)
	if err != nil {
		t.Fatal(err)
	}
	want := Wrk{
		Requests: 10568, Non2xx: 4, Errors: 3, Seconds: 3.01, Throughput: got.Throughput,
		Latency: load.Latency{P50: 4.28, P90: 6.99, P99: 10.65, Max: 18.17, Mean: 4.59},
	}
	if got.Throughput < 3510 || got.Throughput > 3512 {
		t.Errorf("throughput %.2f/s, want 10568 requests / 3.01 s", got.Throughput)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parseWrk (-want +got):\n%s", diff)
	}
}
