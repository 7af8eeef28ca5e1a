package cni

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/planeless/planeless/iptables"
)

// dialTimeout bounds one connection of the check. A redirected one reaches
// a listener of the pod itself at once; one that is not goes out into the
// network and may hang.
const dialTimeout = 2 * time.Second

// Sentinels are the destinations the check dials to see the outbound
// redirection: documentation ranges (RFC 5737, RFC 3849) that no network
// routes anywhere, so an unredirected connection reaches nobody. A pod that
// excludes one from capture is checked with the next.
var (
	sentinelsV4   = []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("198.51.100.1"), netip.MustParseAddr("203.0.113.1")}
	sentinelV6    = netip.MustParseAddr("2001:db8::1")
	sentinelPorts = []uint16{20001, 20002, 20003}
)

// notRedirected explains a failed check: what CNI mode is and who is at
// fault.
const notRedirected = "the pod's traffic is not redirected to its proxy (%s). planeless runs in CNI mode: the node's " +
	"planeless CNI plugin installs the pod's rules when the pod's network is created, and the planeless CNI agent " +
	"(the DaemonSet of the chart's cni.enabled) installs the plugin. Is the agent running on this node? Until it is, " +
	"this check fails and no container of the pod starts; once it is, the agent deletes the pods created before it " +
	"so their controllers recreate them with the rules"

// Validate checks, from inside the pod and without any privilege, that the
// pod's traffic is redirected as c says: it listens on the proxy's port
// and dials a connection the rules must send there. It checks outbound
// when c captures egress (run as a user the rules redirect), else inbound
// (run as the proxy, whose calls to the pod's own address on an
// intercepted port go to the inbound listener), and says so on out.
func Validate(ctx context.Context, c iptables.Config, out io.Writer) error {
	uid := int64(os.Getuid())
	switch {
	case c.Egress:
		if uid == c.ProxyUID || int64(os.Getgid()) == c.ProxyGID {
			return fmt.Errorf("checking the outbound redirection needs a user and group other than the proxy's %d:%d, whose connections are never redirected; running as %d:%d", c.ProxyUID, c.ProxyGID, uid, os.Getgid())
		}
		return validateOutbound(ctx, c, out)
	case len(c.InboundPorts) > 0:
		if uid != c.ProxyUID {
			return fmt.Errorf("checking the inbound redirection needs the proxy's user %d; running as %d", c.ProxyUID, uid)
		}
		return validateInbound(ctx, c, out)
	}
	fmt.Fprintln(out, "the pod captures no traffic: nothing to check")
	return nil
}

func validateOutbound(ctx context.Context, c iptables.Config, out io.Writer) error {
	// A pod that excludes every destination the check could dial asked for
	// its outbound traffic not to be captured there: nothing to see.
	port, ok := firstFree(sentinelPorts, c.ExcludeOutboundPorts)
	if !ok {
		fmt.Fprintf(out, "every port the check dials (%v) is excluded from capture: nothing to check\n", sentinelPorts)
		return nil
	}
	v4, v6, err := podAddresses()
	if err != nil {
		return err
	}
	// A family the pod has no address of has nothing to redirect.
	var to []netip.AddrPort
	if v4.IsValid() {
		for _, a := range sentinelsV4 {
			if !covered(a, c.ExcludeOutboundCIDRs) {
				to = append(to, netip.AddrPortFrom(a, port))
				break
			}
		}
	}
	if v6.IsValid() && c.IPv6 && !covered(sentinelV6, c.ExcludeOutboundCIDRs) {
		to = append(to, netip.AddrPortFrom(sentinelV6, port))
	}
	if len(to) == 0 {
		fmt.Fprintln(out, "no address the check dials is captured (excluded, or of a family the pod has no address of or does not capture): nothing to check")
		return nil
	}
	checked := 0
	for _, dst := range to {
		if !routed(dst.Addr()) {
			// The kernel refuses the connection before the rules see it:
			// nothing of this family leaves the pod, redirected or not.
			fmt.Fprintf(out, "no route to %s: nothing of its family to redirect\n", dst.Addr())
			continue
		}
		checked++
		if err := reaches(ctx, c.OutboundProxyPort, dst); err != nil {
			return fmt.Errorf(notRedirected, fmt.Sprintf("a connection to %s did not reach the outbound port %d: %v", dst, c.OutboundProxyPort, err))
		}
		fmt.Fprintf(out, "outbound redirection in place: a connection to %s reached port %d\n", dst, c.OutboundProxyPort)
	}
	if checked == 0 {
		return fmt.Errorf("the pod has no route to any of %v: no outbound connection to check", to)
	}
	return nil
}

// routed reports whether the pod's routing table has a route to a.
func routed(a netip.Addr) bool {
	_, err := netlink.RouteGet(a.AsSlice())
	return err == nil
}

func validateInbound(ctx context.Context, c iptables.Config, out io.Writer) error {
	ip, v6, err := podAddresses()
	if err != nil {
		return err
	}
	if !ip.IsValid() {
		ip = v6
	}
	port := c.InboundPorts[0]
	dst := netip.AddrPortFrom(ip, port)
	if err := reaches(ctx, c.InboundProxyPort, dst); err != nil {
		return fmt.Errorf(notRedirected, fmt.Sprintf("the proxy's connection to %s did not reach the inbound port %d: %v", dst, c.InboundProxyPort, err))
	}
	fmt.Fprintf(out, "inbound redirection in place: a connection to %s reached port %d\n", dst, c.InboundProxyPort)
	return nil
}

// reaches listens on port of every address, dials dst and reports whether
// the connection arrived there: a random token written on one end is read
// on the other, so nothing else listening can pass for it.
func reaches(ctx context.Context, port uint16, dst netip.AddrPort) error {
	ln, err := net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(int(port))))
	if err != nil {
		return fmt.Errorf("listening on port %d: %w", port, err)
	}
	defer ln.Close()
	token := make([]byte, 16)
	if _, err := rand.Read(token); err != nil {
		return err
	}
	want := hex.EncodeToString(token)
	got := make(chan string, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		_ = conn.SetReadDeadline(time.Now().Add(dialTimeout))
		b := make([]byte, len(want))
		if _, err := io.ReadFull(conn, b); err == nil {
			got <- string(b)
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", dst.String())
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, want); err != nil {
		return err
	}
	select {
	case s := <-got:
		if s != want {
			return fmt.Errorf("port %d got another connection", port)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("connected, but not to port %d", port)
	}
}

// podAddresses are the pod's own addresses, one of each family it has:
// the first global unicast address of its interfaces.
func podAddresses() (v4, v6 netip.Addr, err error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return v4, v6, fmt.Errorf("listing the pod's addresses: %w", err)
	}
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip, ok := netip.AddrFromSlice(n.IP)
		if ip = ip.Unmap(); !ok || !ip.IsGlobalUnicast() {
			continue
		}
		if ip.Is4() && !v4.IsValid() {
			v4 = ip
		}
		if ip.Is6() && !v6.IsValid() {
			v6 = ip
		}
	}
	if !v4.IsValid() && !v6.IsValid() {
		return v4, v6, errors.New("the pod has no address of its own")
	}
	return v4, v6, nil
}

func firstFree(ports, excluded []uint16) (uint16, bool) {
	for _, p := range ports {
		if !slices.Contains(excluded, p) {
			return p, true
		}
	}
	return 0, false
}

func covered(a netip.Addr, prefixes []netip.Prefix) bool {
	return slices.ContainsFunc(prefixes, func(p netip.Prefix) bool { return p.Contains(a) })
}
