// Command benchload is the data-plane load generator of `make bench`. It
// runs inside a pod's network namespace as the app, so its requests go
// through the pod's sidecar when there is one, and prints one JSON
// load.Result on stdout.
//
//	benchload http -url http://server:8080/ -rate 1000 -c 16 -duration 20s
//	benchload grpc -target server:8080 -rate 0 -c 16 -duration 10s
//	benchload startup -url http://127.0.0.1:15090/ready -- envoy -c ...
//
// HTTP/1.1 requests are keep-alive POSTs of a 1 KiB body, answered 200 with
// the body echoed (tests/apps/testapp rest). gRPC calls are unary
// grpc.testing.TestService/UnaryCall with a 1 KiB payload. -rate 0 is
// closed-loop: as fast as -c workers go. Each answer is checked; a wrong
// one counts as an error.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/planeless/planeless/bench/load"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: benchload http|grpc|startup [flags]")
		os.Exit(2)
	}
	if os.Args[1] == "startup" {
		if err := startup(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "benchload:", err)
			os.Exit(1)
		}
		return
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	url := fs.String("url", "", "http: URL to POST to")
	target := fs.String("target", "", "grpc: host:port to call")
	rate := fs.Float64("rate", 0, "requests per second in total; 0 is closed-loop")
	concurrency := fs.Int("c", 16, "workers (connections for HTTP/1.1)")
	conns := fs.Int("conns", 4, "grpc: HTTP/2 connections the workers share")
	requests := fs.Int("n", 0, "stop after this many requests (0: -duration)")
	duration := fs.Duration("duration", 10*time.Second, "how long to run")
	size := fs.Int("size", 1024, "body or payload bytes")
	_ = fs.Parse(os.Args[2:])

	var do load.Do
	var err error
	switch os.Args[1] {
	case "http":
		do = httpPost(*url, *size, *concurrency)
	case "grpc":
		do, err = grpcUnary(*target, *size, *conns, *concurrency)
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchload:", err)
		os.Exit(1)
	}
	r := load.Run(context.Background(), load.Options{
		Rate: *rate, Concurrency: *concurrency, Requests: *requests, Duration: *duration,
	}, do)
	if err := json.NewEncoder(os.Stdout).Encode(r); err != nil {
		fmt.Fprintln(os.Stderr, "benchload:", err)
		os.Exit(1)
	}
}
