package main

import "github.com/planeless/planeless/cmd/internal/podcmd"

// The commands that run in pods are planeless-pod's too; here they keep
// working for pods injected before the init container named planeless-pod.
func init() { subcommands = append(subcommands, podcmd.Init, podcmd.Wait, podcmd.Drain) }
