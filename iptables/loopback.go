package iptables

import (
	"fmt"
	"net"

	"github.com/vishvananda/netlink"
)

// Envoy connects to the application from these source addresses (the
// inbound clusters of package bootstrap bind to them), and the rules never
// redirect what comes from them: Istio's 127.0.0.6 pattern. Without it,
// Envoy's connection to the pod's own address on an intercepted port would
// look like the application calling itself, and loop back into Envoy.
const (
	InboundSourceV4 = "127.0.0.6"
	InboundSourceV6 = "::6"
)

// addInboundSourceV6 puts InboundSourceV6 on the loopback interface so
// Envoy can bind to it. (127.0.0.6 needs nothing: all of 127.0.0.0/8 is
// local on Linux.) Adding it twice is not an error.
func addInboundSourceV6() error {
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("finding the loopback interface: %w", err)
	}
	addr := &netlink.Addr{IPNet: &net.IPNet{IP: net.ParseIP(InboundSourceV6), Mask: net.CIDRMask(128, 128)}}
	if err := netlink.AddrReplace(lo, addr); err != nil {
		return fmt.Errorf("adding %s to the loopback interface (is IPv6 disabled in the pod? then set planeless.dev/ipv6: \"false\"): %w", InboundSourceV6, err)
	}
	return nil
}
