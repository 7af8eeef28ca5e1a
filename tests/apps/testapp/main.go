package main

import (
	"encoding/json"
	"fmt"
	"os"
)

var modes = map[string]func(args []string) error{
	"rest":      runREST,
	"grpc":      runGRPC,
	"grpc-call": runGRPCCall,
	"get":       runGet,
	"tcp-echo":  runTCPEcho,
	"tcp-call":  runTCPCall,
	"revproxy":  runRevProxy,
	"flood":     runFlood,
	// The real node's tests (tests/node):
	"probe-target": runProbeTarget,
	"steady":       runSteady,
	"load":         runLoad,
}

func main() {
	if len(os.Args) < 2 || modes[os.Args[1]] == nil {
		fmt.Fprintln(os.Stderr, "usage: testapp rest|grpc|grpc-call|get|tcp-echo|tcp-call|revproxy|flood|load|probe-target|steady [flags]")
		os.Exit(2)
	}
	if err := modes[os.Args[1]](os.Args[2:]); err != nil {
		fmt.Fprintln(os.Stderr, "testapp:", err)
		os.Exit(1)
	}
}

func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
