package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	testpb "google.golang.org/grpc/interop/grpc_testing"

	"github.com/planeless/planeless/tests/apps/echo"
)

type headerFlags []string

func (h *headerFlags) String() string     { return strings.Join(*h, ",") }
func (h *headerFlags) Set(v string) error { *h = append(*h, v); return nil }

// runGRPCCall makes one gRPC call and prints an echo.GRPCResult; a call
// that fails with a gRPC status still exits 0 (the status is the result).
func runGRPCCall(args []string) error {
	fs := flag.NewFlagSet("grpc-call", flag.ExitOnError)
	target := fs.String("target", "", "host:port to call")
	payload := fs.String("payload", "", "request payload")
	code := fs.Int("code", 0, "ask the server to fail with this gRPC status code")
	stream := fs.Bool("stream", false, "call StreamingOutputCall instead of UnaryCall")
	messages := fs.Int("messages", 3, "stream: number of messages")
	interval := fs.Duration("interval", time.Second, "stream: wait before each message")
	timeout := fs.Duration("timeout", 2*time.Minute, "deadline of the call")
	var md headerFlags
	fs.Var(&md, "H", "metadata key:value (repeatable)")
	_ = fs.Parse(args)

	conn, err := grpc.NewClient(*target, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fmt.Errorf("dialing %s: %w", *target, err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	for _, kv := range md {
		k, v, _ := strings.Cut(kv, ":")
		ctx = metadata.AppendToOutgoingContext(ctx, strings.TrimSpace(k), strings.TrimSpace(v))
	}
	client := testpb.NewTestServiceClient(conn)

	start := time.Now()
	var res echo.GRPCResult
	if *stream {
		res, err = streamCall(ctx, client, *messages, *interval)
	} else {
		res, err = unaryCall(ctx, client, *payload, *code)
	}
	res.Seconds = time.Since(start).Seconds()
	st := status.Convert(err)
	res.Code, res.Message = st.Code().String(), st.Message()
	return printJSON(res)
}

func unaryCall(ctx context.Context, c testpb.TestServiceClient, payload string, code int) (echo.GRPCResult, error) {
	req := &testpb.SimpleRequest{Payload: &testpb.Payload{Body: []byte(payload)}}
	if code != 0 {
		req.ResponseStatus = &testpb.EchoStatus{Code: int32(code), Message: "asked to fail"}
	}
	reply, err := c.UnaryCall(ctx, req)
	if err != nil {
		return echo.GRPCResult{}, err
	}
	var got echo.GRPCRequest
	if err := json.Unmarshal(reply.GetPayload().GetBody(), &got); err != nil {
		return echo.GRPCResult{}, fmt.Errorf("decoding the server's report: %w", err)
	}
	return echo.GRPCResult{Received: &got}, nil
}

func streamCall(ctx context.Context, c testpb.TestServiceClient, messages int, interval time.Duration) (echo.GRPCResult, error) {
	req := &testpb.StreamingOutputCallRequest{}
	for range messages {
		req.ResponseParameters = append(req.ResponseParameters, &testpb.ResponseParameters{Size: 16, IntervalUs: int32(interval.Microseconds())})
	}
	s, err := c.StreamingOutputCall(ctx, req)
	if err != nil {
		return echo.GRPCResult{}, err
	}
	var res echo.GRPCResult
	for {
		_, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return res, nil
		}
		if err != nil {
			return res, err
		}
		res.Messages++
	}
}
