package iptables

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os/exec"
	"testing"

	"github.com/planeless/planeless/tests/need"
)

// BenchmarkInstall installs the rules of a typical pod (one port, egress,
// IPv6) again and again in one network namespace: each round is what the
// init container does, with the backend found (auto) or given (nft). in
// process is Install alone (the backend probe, then each family's
// iptables-save and iptables-restore, see transact), in-process-fresh the
// same in a new namespace each round (what a pod's init container does:
// nothing to read back, nothing to remove); cli is
// `planeless-pod init`, process start included, as the init container
// runs it.
func BenchmarkInstall(b *testing.B) {
	need.Root(b)
	need.Command(b, "ip", "apt-get install iproute2")
	need.Command(b, "iptables-nft-restore", "apt-get install iptables")
	id := make([]byte, 4)
	if _, err := rand.Read(id); err != nil {
		b.Fatal(err)
	}
	ns := "planeless-bench-" + hex.EncodeToString(id)
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		b.Fatalf("ip netns add: %v: %s", err, out)
	}
	b.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	c := DefaultConfig()
	c.InboundPorts = []uint16{8080}

	for _, backend := range []Backend{BackendAuto, BackendNFT} {
		b.Run("in-process/"+string(backend), func(b *testing.B) {
			err := inNetns(ns, func() error {
				for b.Loop() {
					if _, err := Install(context.Background(), backend, c); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		})
	}
	// A pod's init container installs into a fresh namespace: each round
	// gets a new one, made and removed with the timer stopped.
	b.Run("in-process-fresh/auto", func(b *testing.B) {
		for i := range b.N {
			b.StopTimer()
			fresh := fmt.Sprintf("%s-%d", ns, i)
			if out, err := exec.Command("ip", "netns", "add", fresh).CombinedOutput(); err != nil {
				b.Fatalf("ip netns add: %v: %s", err, out)
			}
			b.StartTimer()
			err := inNetns(fresh, func() error {
				_, err := Install(context.Background(), BackendAuto, c)
				return err
			})
			b.StopTimer()
			_ = exec.Command("ip", "netns", "del", fresh).Run()
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
	})
	bin := buildPlanelessPod(b)
	b.Run("cli/auto", func(b *testing.B) {
		args := append([]string{"netns", "exec", ns, bin, "init"}, c.Args()...)
		for b.Loop() {
			if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
				b.Fatalf("planeless init: %v: %s", err, out)
			}
		}
	})
}
