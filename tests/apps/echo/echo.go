// Package echo holds the JSON shapes the test applications (tests/apps/testapp)
// print and reply with, so tests decode them without guessing.
package echo

import "net/http"

// Request is what the REST service received, echoed back as its reply body.
type Request struct {
	Server  string      `json:"server"`
	Method  string      `json:"method"`
	Path    string      `json:"path"`
	Proto   string      `json:"proto"`
	Host    string      `json:"host"`
	Headers http.Header `json:"headers"`
	Body    string      `json:"body"`
	Remote  string      `json:"remote"`
}

// Response is what an HTTP client got back (testapp get, /call).
type Response struct {
	Status  int         `json:"status"`
	Headers http.Header `json:"headers,omitempty"`
	Body    string      `json:"body"`
	Error   string      `json:"error,omitempty"`
}

// GRPCRequest is what the gRPC service received in a unary call; it travels
// back in the reply's payload body.
type GRPCRequest struct {
	Server    string              `json:"server"`
	Method    string              `json:"method"`
	Authority string              `json:"authority"`
	Metadata  map[string][]string `json:"metadata"`
	Payload   string              `json:"payload"`
}

// GRPCResult is what testapp grpc-call prints.
type GRPCResult struct {
	// Code is the gRPC status code name ("OK", "Unavailable", ...).
	Code    string `json:"code"`
	Message string `json:"message,omitempty"`
	// Received is the server's report of a unary call.
	Received *GRPCRequest `json:"received,omitempty"`
	// Messages counts the messages of a server stream.
	Messages int `json:"messages,omitempty"`
	// Seconds is how long the call lasted.
	Seconds float64 `json:"seconds"`
}

// Load is what testapp load prints.
type Load struct {
	Requests int `json:"requests"`
	// Statuses counts the responses by status code (0: no response).
	Statuses map[int]int `json:"statuses"`
	// Servers counts the responses by the echo reply's server field ("":
	// not an echo reply).
	Servers map[string]int `json:"servers"`
	// Slow counts the requests that took at least -slow.
	Slow int `json:"slow"`
}
