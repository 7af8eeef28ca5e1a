package iptables

import (
	"net/netip"
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/planeless/planeless/tests/need"
)

const (
	appUID   = 1000
	proxyUID = 1337
)

// TestInitInANetworkNamespace runs the real `planeless-pod init` binary in a
// network namespace with the flags the injector would write, and proves
// with real connections where each kind of traffic lands.
func TestInitInANetworkNamespace(t *testing.T) {
	need.Root(t)
	for _, c := range []string{"ip", "setpriv", "bash"} {
		need.Command(t, c, "apt-get install iproute2 util-linux bash")
	}
	bin := buildPlanelessPod(t)

	for _, backend := range []Backend{BackendNFT, BackendLegacy} {
		t.Run(string(backend), func(t *testing.T) {
			for _, f := range []Family{IPv4, IPv6} {
				need.Command(t, commandFor(f)+"-"+string(backend), "apt-get install iptables")
				need.Command(t, commandFor(f)+"-"+string(backend)+"-save", "apt-get install iptables")
			}
			testInit(t, bin, backend)
		})
	}
}

func testInit(t *testing.T, bin string, backend Backend) {
	p := newTestPod(t)

	c := DefaultConfig()
	c.InboundPorts = []uint16{8080}
	c.ExcludeInboundCIDRs = []netip.Prefix{netip.PrefixFrom(outExcluded, 32), netip.PrefixFrom(outExcl6, 128)}
	c.ExcludeOutboundPorts = []uint16{5432}
	c.ExcludeOutboundCIDRs = []netip.Prefix{netip.PrefixFrom(outExcluded, 32), netip.PrefixFrom(outExcl6, 128)}
	initArgs := append([]string{"netns", "exec", p.pod, bin, "init", "--backend=" + string(backend)}, c.Args()...)

	// The pod: Envoy's two listeners and the application's ports.
	for _, l := range []struct{ name, v4, v6 string }{
		{"outbound", "127.0.0.1:15001", "[::1]:15001"},
		{"inbound", "0.0.0.0:15006", "[::]:15006"},
		{"app-8080", "0.0.0.0:8080", "[::]:8080"},
		{"app-9000", "0.0.0.0:9000", "[::]:9000"},
	} {
		listen(t, p.pod, l.name, "tcp4", l.v4)
		listen(t, p.pod, l.name, "tcp6", l.v6)
	}
	listenUDP(t, p.pod, "outbound-udp", "udp4", "127.0.0.1:15001")
	listenUDP(t, p.pod, "inbound-udp", "udp4", "0.0.0.0:15006")
	listenUDP(t, p.pod, "app-udp", "udp4", "0.0.0.0:8080")
	// The rest of the cluster.
	for _, l := range []struct{ name, v4, v6 string }{
		{"outside-8080", "0.0.0.0:8080", "[::]:8080"},
		{"outside-5432", "0.0.0.0:5432", "[::]:5432"},
	} {
		listen(t, p.out, l.name, "tcp4", l.v4)
		listen(t, p.out, l.name, "tcp6", l.v6)
	}
	listenUDP(t, p.out, "outside-udp", "udp4", "0.0.0.0:8080")

	ap := netip.AddrPortFrom
	loop4, loop6 := netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")
	// Before init nothing is redirected.
	if got, want := p.dialAs(t, appUID, appUID, "tcp", ap(outIP4, 8080)), "outside-8080 10.77.0.1:8080"; got != want {
		t.Fatalf("before init, the app reached %q, want %q", got, want)
	}

	run(t, "ip", initArgs...)
	saved := map[Family]string{}
	for _, f := range []Family{IPv4, IPv6} {
		saved[f] = p.save(t, backend, f)
		if diff := cmp.Diff(inSaveOrder(Plan(c), f), installedRules(saved[f])); diff != "" {
			t.Errorf("%s: installed rules differ from the plan (-plan +installed):\n%s", f, diff)
		}
	}

	t.Run("outbound", func(t *testing.T) {
		tests := map[string]struct {
			uid, gid int
			to       netip.AddrPort
			want     string
		}{
			"the app's connection to another pod goes to the outbound listener": {
				appUID, appUID, ap(outIP4, 8080), "outbound 10.77.0.1:8080"},
			"the app's IPv6 connection to another pod goes to the outbound listener": {
				appUID, appUID, ap(outIP6, 8080), "outbound [fd77::1]:8080"},
			"Envoy's connection to another pod leaves the pod": {
				proxyUID, proxyUID, ap(outIP4, 8080), "outside-8080 10.77.0.1:8080"},
			"Envoy's IPv6 connection to another pod leaves the pod": {
				proxyUID, proxyUID, ap(outIP6, 8080), "outside-8080 [fd77::1]:8080"},
			"a connection from the proxy's group leaves the pod": {
				appUID, proxyUID, ap(outIP4, 8080), "outside-8080 10.77.0.1:8080"},
			"a connection to an excluded port leaves the pod": {
				appUID, appUID, ap(outIP4, 5432), "outside-5432 10.77.0.1:5432"},
			"a connection to an excluded CIDR leaves the pod": {
				appUID, appUID, ap(outExcluded, 8080), "outside-8080 10.77.0.3:8080"},
			"an IPv6 connection to an excluded CIDR leaves the pod": {
				appUID, appUID, ap(outExcl6, 8080), "outside-8080 [fd77::3]:8080"},
			"the app calling its own pod IP on an intercepted port reaches itself": {
				appUID, appUID, ap(podIP4, 8080), "app-8080 10.77.0.2:8080"},
			"the app calling its own pod IP on another port reaches itself": {
				appUID, appUID, ap(podIP4, 9000), "app-9000 10.77.0.2:9000"},
			"the app calling its own IPv6 pod IP reaches itself": {
				appUID, appUID, ap(podIP6, 8080), "app-8080 [fd77::2]:8080"},
			"the app calling localhost reaches itself": {
				appUID, appUID, ap(loop4, 8080), "app-8080 127.0.0.1:8080"},
			"the app calling IPv6 localhost reaches itself": {
				appUID, appUID, ap(loop6, 8080), "app-8080 [::1]:8080"},
			"Envoy calling localhost (its inbound cluster) reaches the app": {
				proxyUID, proxyUID, ap(loop4, 8080), "app-8080 127.0.0.1:8080"},
			"Envoy calling its own pod IP on an intercepted port reaches the inbound listener": {
				proxyUID, proxyUID, ap(podIP4, 8080), "inbound 10.77.0.2:8080"},
			"Envoy calling its own IPv6 pod IP on an intercepted port reaches the inbound listener": {
				proxyUID, proxyUID, ap(podIP6, 8080), "inbound [fd77::2]:8080"},
			"Envoy calling its own pod IP on another port reaches the app": {
				proxyUID, proxyUID, ap(podIP4, 9000), "app-9000 10.77.0.2:9000"},
		}
		for name, tc := range tests {
			t.Run(name, func(t *testing.T) {
				if got := p.dialAs(t, tc.uid, tc.gid, "tcp", tc.to); got != tc.want {
					t.Errorf("uid %d gid %d connecting to %s reached %q, want %q", tc.uid, tc.gid, tc.to, got, tc.want)
				}
			})
		}
	})

	t.Run("inbound", func(t *testing.T) {
		tests := map[string]struct {
			from netip.Addr
			to   netip.AddrPort
			want string
		}{
			"a connection to an intercepted port goes to the inbound listener": {
				outIP4, ap(podIP4, 8080), "inbound 10.77.0.2:8080"},
			"an IPv6 connection to an intercepted port goes to the inbound listener": {
				outIP6, ap(podIP6, 8080), "inbound [fd77::2]:8080"},
			"a connection to another port reaches the app": {
				outIP4, ap(podIP4, 9000), "app-9000 10.77.0.2:9000"},
			"a connection from an excluded CIDR reaches the app": {
				outExcluded, ap(podIP4, 8080), "app-8080 10.77.0.2:8080"},
			"an IPv6 connection from an excluded CIDR reaches the app": {
				outExcl6, ap(podIP6, 8080), "app-8080 [fd77::2]:8080"},
			"a connection to the inbound listener's own port is not redirected": {
				outIP4, ap(podIP4, 15006), "inbound 10.77.0.2:15006"},
		}
		for name, tc := range tests {
			t.Run(name, func(t *testing.T) {
				if got := p.dialFrom(t, "tcp", tc.from, tc.to); got != tc.want {
					t.Errorf("%s connecting to %s reached %q, want %q", tc.from, tc.to, got, tc.want)
				}
			})
		}
	})

	t.Run("UDP is not redirected", func(t *testing.T) {
		if got, want := p.dialAs(t, appUID, appUID, "udp", ap(outIP4, 8080)), "outside-udp"; got != want {
			t.Errorf("the app's datagram to another pod reached %q, want %q", got, want)
		}
		if got, want := p.dialFrom(t, "udp", outIP4, ap(podIP4, 8080)), "app-udp"; got != want {
			t.Errorf("a datagram to an intercepted port reached %q, want %q", got, want)
		}
	})

	t.Run("a second init changes nothing", func(t *testing.T) {
		run(t, "ip", initArgs...)
		for _, f := range []Family{IPv4, IPv6} {
			if diff := cmp.Diff(saved[f], p.save(t, backend, f)); diff != "" {
				t.Errorf("%s: iptables-save after a second init (-first +second):\n%s", f, diff)
			}
		}
	})

	t.Run("cleanup removes every chain and jump", func(t *testing.T) {
		// auto must find the backend the rules were installed with.
		run(t, "ip", "netns", "exec", p.pod, bin, "init", "--cleanup", "--backend=auto")
		for _, f := range []Family{IPv4, IPv6} {
			save := p.save(t, backend, f)
			if strings.Contains(strings.ToLower(save), "planeless") || len(installedRules(save)) > 0 {
				t.Errorf("%s: rules left after cleanup:\n%s", f, save)
			}
		}
		if got, want := p.dialAs(t, appUID, appUID, "tcp", ap(outIP4, 8080)), "outside-8080 10.77.0.1:8080"; got != want {
			t.Errorf("after cleanup, the app reached %q, want %q", got, want)
		}
	})
}

// TestInitCLI checks the CLI's own behaviour: --dry-run prints the plan of
// exactly the flags it got, and bad flags fail with a message on stderr.
func TestInitCLI(t *testing.T) {
	bin := buildPlanelessPod(t)
	for name, c := range configs() {
		t.Run("dry run of "+name, func(t *testing.T) {
			out, err := exec.CommandContext(t.Context(), bin, append([]string{"init", "--dry-run"}, c.Args()...)...).Output()
			if err != nil {
				t.Fatalf("planeless init --dry-run: %v", err)
			}
			if diff := cmp.Diff(Format(Plan(c)), string(out)); diff != "" {
				t.Errorf("dry run (-plan +printed):\n%s", diff)
			}
		})
	}
	errs := map[string]struct {
		args []string
		want string
	}{
		"a bad port":                  {[]string{"--inbound-ports=8080,http"}, `invalid port "http"`},
		"an app port that is Envoy's": {[]string{"--inbound-ports=15001"}, "inbound port 15001 is one of the proxy's own ports"},
		"an unknown backend":          {[]string{"--backend=ebpf"}, `unknown iptables backend "ebpf"`},
		"an argument":                 {[]string{"8080"}, "unknown command"},
	}
	for name, tc := range errs {
		t.Run(name, func(t *testing.T) {
			cmd := exec.CommandContext(t.Context(), bin, append([]string{"init"}, tc.args...)...)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			err := cmd.Run()
			if err == nil {
				t.Fatalf("planeless init %q succeeded, want a failure", tc.args)
			}
			if !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tc.want)
			}
		})
	}
}
