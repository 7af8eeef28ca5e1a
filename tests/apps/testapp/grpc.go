package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	testpb "google.golang.org/grpc/interop/grpc_testing"

	"github.com/planeless/planeless/tests/apps/echo"
)

func runGRPC(args []string) error {
	fs := flag.NewFlagSet("grpc", flag.ExitOnError)
	listen := fs.String("listen", ":9090", "address to listen on")
	name := fs.String("name", "grpc", "name reported in every reply")
	_ = fs.Parse(args)

	lis, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listening: %w", err)
	}
	return newGRPCServer(*name).Serve(lis)
}

func newGRPCServer(name string) *grpc.Server {
	s := grpc.NewServer()
	testpb.RegisterTestServiceServer(s, &testService{name: name})
	return s
}

type testService struct {
	testpb.UnimplementedTestServiceServer
	name string
}

// UnaryCall reports what it received in the reply's payload; a request
// with a response_status replies with that status instead.
func (s *testService) UnaryCall(ctx context.Context, req *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	if rs := req.GetResponseStatus(); rs.GetCode() != 0 {
		return nil, status.Error(codes.Code(rs.GetCode()), rs.GetMessage())
	}
	md, _ := metadata.FromIncomingContext(ctx)
	got := echo.GRPCRequest{
		Server:   s.name,
		Method:   "/grpc.testing.TestService/UnaryCall",
		Metadata: md,
		Payload:  string(req.GetPayload().GetBody()),
	}
	if a := md.Get(":authority"); len(a) > 0 {
		got.Authority = a[0]
	}
	body, err := json.Marshal(got)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "encoding report: %v", err)
	}
	return &testpb.SimpleResponse{ServerId: s.name, Payload: &testpb.Payload{Body: body}}, nil
}

// StreamingOutputCall sends one message per response parameter, each after
// waiting its interval, so a test can hold a stream open for as long as it
// wants.
func (s *testService) StreamingOutputCall(req *testpb.StreamingOutputCallRequest, stream testpb.TestService_StreamingOutputCallServer) error {
	for _, p := range req.GetResponseParameters() {
		select {
		case <-stream.Context().Done():
			return stream.Context().Err()
		case <-time.After(time.Duration(p.GetIntervalUs()) * time.Microsecond):
		}
		if err := stream.Send(&testpb.StreamingOutputCallResponse{Payload: &testpb.Payload{Body: make([]byte, p.GetSize())}}); err != nil {
			return err
		}
	}
	return nil
}
