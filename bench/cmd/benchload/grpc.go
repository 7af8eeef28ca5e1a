package main

import (
	"bytes"
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	testpb "google.golang.org/grpc/interop/grpc_testing"

	"github.com/planeless/planeless/bench/load"
)

func grpcUnary(target string, size, conns, concurrency int) (load.Do, error) {
	conns = max(1, min(conns, concurrency))
	clients := make([]testpb.TestServiceClient, conns)
	for i := range clients {
		conn, err := grpc.NewClient(target, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return nil, fmt.Errorf("dialing %s: %w", target, err)
		}
		clients[i] = testpb.NewTestServiceClient(conn)
	}
	payload := bytes.Repeat([]byte("x"), size)
	var next atomic.Uint64
	return func(ctx context.Context) error {
		c := clients[next.Add(1)%uint64(len(clients))]
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		reply, err := c.UnaryCall(ctx, &testpb.SimpleRequest{
			Payload: &testpb.Payload{Body: payload},
		})
		if err != nil {
			return err
		}
		// testapp's reply reports the payload it received.
		if !bytes.Contains(reply.GetPayload().GetBody(), payload) {
			return fmt.Errorf("reply does not report the %d-byte payload", len(payload))
		}
		return nil
	}, nil
}
