package iptables

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/spf13/pflag"

	"github.com/planeless/planeless/proxy"
)

func TestFromSpec(t *testing.T) {
	s := &proxy.Spec{
		Inbound:              []proxy.Port{{Number: 9090, Protocol: proxy.ProtocolGRPC}, {Number: 8080, Protocol: proxy.ProtocolHTTP}},
		ExcludeInboundPorts:  []uint16{22},
		ExcludeInboundCIDRs:  []netip.Prefix{netip.MustParsePrefix("10.1.2.3/8")},
		Egress:               true,
		ExcludeOutboundPorts: []uint16{5432, 53, 5432},
		ExcludeOutboundCIDRs: []netip.Prefix{netip.MustParsePrefix("fd00::/8"), netip.MustParsePrefix("169.254.169.254/32")},
		IPv6:                 true,
		Proxy: proxy.Sidecar{
			UID:   1337,
			GID:   1338,
			Ports: proxy.Ports{Inbound: 15006, Outbound: 15001, Stats: 15090},
		},
	}
	want := Config{
		ProxyUID:             1337,
		ProxyGID:             1338,
		InboundProxyPort:     15006,
		OutboundProxyPort:    15001,
		ProxyPorts:           []uint16{15001, 15006, 15090},
		InboundPorts:         []uint16{8080, 9090},
		ExcludeInboundPorts:  []uint16{22},
		ExcludeInboundCIDRs:  []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		Egress:               true,
		ExcludeOutboundPorts: []uint16{53, 5432},
		ExcludeOutboundCIDRs: []netip.Prefix{netip.MustParsePrefix("169.254.169.254/32"), netip.MustParsePrefix("fd00::/8")},
		IPv6:                 true,
	}
	if diff := cmp.Diff(want, FromSpec(s), cmpopts.EquateComparable(netip.Prefix{})); diff != "" {
		t.Errorf("FromSpec (-want +got):\n%s", diff)
	}
}

// configs are the Configs the round-trip and plan tests share.
func configs() map[string]Config {
	withPorts := func(ports ...uint16) Config {
		c := DefaultConfig()
		c.InboundPorts = ports
		return c
	}
	many := make([]uint16, 0, 40)
	for p := uint16(8000); p < 8040; p++ {
		many = append(many, p)
	}
	excluded := withPorts(8080)
	excluded.ExcludeInboundPorts = []uint16{8081, 22}
	excluded.ExcludeInboundCIDRs = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00:1::/64")}
	excluded.ExcludeOutboundPorts = []uint16{53, 3306, 5432}
	excluded.ExcludeOutboundCIDRs = []netip.Prefix{netip.MustParsePrefix("169.254.169.254/32"), netip.MustParsePrefix("fd00::/8")}
	noEgress := withPorts(8080)
	noEgress.Egress = false
	noIPv6 := withPorts(8080)
	noIPv6.IPv6 = false
	custom := withPorts(3000)
	custom.ProxyUID, custom.ProxyGID = 2001, 2002
	custom.InboundProxyPort, custom.OutboundProxyPort = 16006, 16001
	custom.ProxyPorts = []uint16{16000, 16001, 16006, 16090}
	probed := withPorts(8080, 9090)
	probed.ProbePorts = []ProbePort{{15100, 8080}, {15101, 9090}}
	nothing := DefaultConfig()
	nothing.Egress = false
	nothing.IPv6 = false
	return map[string]Config{
		"default-rest":               withPorts(8080),
		"grpc-and-rest":              withPorts(8080, 9090),
		"no-inbound-ports":           DefaultConfig(),
		"many-ports":                 withPorts(many...),
		"exclusions":                 excluded,
		"egress-off":                 noEgress,
		"ipv6-off":                   noIPv6,
		"custom-proxy":               custom,
		"no-ports-no-egress-no-ipv6": nothing,
		"tcp-probes":                 probed,
	}
}

func TestArgsRoundTrip(t *testing.T) {
	for name, c := range configs() {
		t.Run(name, func(t *testing.T) {
			got := DefaultConfig()
			fs := pflag.NewFlagSet("init", pflag.ContinueOnError)
			got.BindFlags(fs)
			if err := fs.Parse(c.Args()); err != nil {
				t.Fatalf("parsing %q: %v", c.Args(), err)
			}
			if diff := cmp.Diff(c, got, cmpopts.EquateComparable(netip.Prefix{}), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Config after Args -> flags (-want +got):\n%s", diff)
			}
		})
	}
}

func TestArgs(t *testing.T) {
	c := configs()["exclusions"]
	want := []string{
		"--proxy-uid=1337",
		"--proxy-gid=1337",
		"--inbound-proxy-port=15006",
		"--outbound-proxy-port=15001",
		"--proxy-ports=15001,15006,15090",
		"--inbound-ports=8080",
		"--exclude-inbound-ports=8081,22",
		"--exclude-inbound-cidrs=10.0.0.0/8,fd00:1::/64",
		"--egress=true",
		"--exclude-outbound-ports=53,3306,5432",
		"--exclude-outbound-cidrs=169.254.169.254/32,fd00::/8",
		"--ipv6=true",
	}
	if diff := cmp.Diff(want, c.Args()); diff != "" {
		t.Errorf("Args (-want +got):\n%s", diff)
	}
}

func TestFlagErrors(t *testing.T) {
	tests := map[string]struct {
		args []string
		want string
	}{
		"a port that is not a number":  {[]string{"--inbound-ports=8080,http"}, `invalid port "http"`},
		"port zero":                    {[]string{"--exclude-outbound-ports=0"}, `invalid port "0"`},
		"a port above 65535":           {[]string{"--inbound-ports=70000"}, `invalid port "70000"`},
		"a CIDR that is not one":       {[]string{"--exclude-outbound-cidrs=10.0.0.0/33"}, `invalid cidr "10.0.0.0/33"`},
		"an address that is not one":   {[]string{"--exclude-inbound-cidrs=example.com"}, `invalid cidr "example.com"`},
		"a uid that is not a number":   {[]string{"--proxy-uid=envoy"}, `invalid argument "envoy"`},
		"an egress that is not a bool": {[]string{"--egress=maybe"}, `invalid argument "maybe"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := DefaultConfig()
			fs := pflag.NewFlagSet("init", pflag.ContinueOnError)
			fs.SetOutput(new(strings.Builder))
			c.BindFlags(fs)
			err := fs.Parse(tc.args)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse(%q) = %v, want an error containing %q", tc.args, err, tc.want)
			}
		})
	}
}

func TestBareAddressIsAHostPrefix(t *testing.T) {
	c := DefaultConfig()
	fs := pflag.NewFlagSet("init", pflag.ContinueOnError)
	c.BindFlags(fs)
	if err := fs.Parse([]string{"--exclude-outbound-cidrs=10.0.0.1, fd00::1"}); err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.1/32"), netip.MustParsePrefix("fd00::1/128")}
	if diff := cmp.Diff(want, c.ExcludeOutboundCIDRs, cmpopts.EquateComparable(netip.Prefix{})); diff != "" {
		t.Errorf("ExcludeOutboundCIDRs (-want +got):\n%s", diff)
	}
}

func TestValidate(t *testing.T) {
	tests := map[string]struct {
		modify func(*Config)
		want   string
	}{
		"the default config":  {func(*Config) {}, ""},
		"a negative uid":      {func(c *Config) { c.ProxyUID = -1 }, "proxy uid -1 is negative"},
		"no inbound listener": {func(c *Config) { c.InboundProxyPort = 0 }, "inbound proxy port is not set"},
		"one port for both listeners": {
			func(c *Config) { c.OutboundProxyPort = c.InboundProxyPort },
			"inbound and outbound proxy ports are both 15006",
		},
		"an app port that is the proxy's": {
			func(c *Config) { c.InboundPorts = []uint16{8080, 15090} },
			"inbound port 15090 is one of the proxy's own ports",
		},
		"port zero": {func(c *Config) { c.ExcludeOutboundPorts = []uint16{0} }, "port 0 is not a port"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := DefaultConfig()
			tc.modify(&c)
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Validate() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
