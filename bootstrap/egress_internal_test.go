package bootstrap

import (
	"net/netip"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/planeless/planeless/proxy"
)

// Envoy picks the most specific range and never falls back to a less
// specific one, so each range must allow what every range containing it
// allows.
func TestAllowedRangesAllowWhatTheirContainersAllow(t *testing.T) {
	allow := func(prefix string, port uint16) proxy.AllowedCIDR {
		return proxy.AllowedCIDR{Prefix: netip.MustParsePrefix(prefix), Port: port}
	}
	s := &proxy.Spec{IPv6: false}
	s.Policy.Egress.CIDRs = []proxy.AllowedCIDR{
		allow("10.0.0.0/8", 0), allow("10.1.0.0/16", 5432), allow("192.168.7.0/24", 6379), allow("192.168.7.7/32", 5432), allow("fd00::/8", 0),
	}
	got := map[string][]uint16{}
	for _, g := range allowedGroups(s) {
		for _, r := range g.ranges {
			got[r.String()] = g.ports
		}
	}
	want := map[string][]uint16{
		"10.0.0.0/8":     nil, // any port
		"10.1.0.0/16":    nil, // inside 10.0.0.0/8: any port too
		"192.168.7.0/24": {6379},
		"192.168.7.7/32": {5432, 6379},
		// fd00::/8 is left out: the pod does not capture IPv6.
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ports allowed per range (-want +got):\n%s", diff)
	}
}

// The Host patterns of the allow-list match the allowed names and nothing
// that merely contains them (Go's regexp speaks RE2, as Envoy does).
func TestAllowedHostPatterns(t *testing.T) {
	s := &proxy.Spec{ClusterDomain: "cluster.local"}
	s.Policy.Egress.Names = []proxy.AllowedName{
		{Name: "api.github.com"}, {Name: "googleapis.com", Wildcard: true}, {Name: "registry.example.com", Port: 443}, {Name: "plain.example.com", Port: 80},
	}
	matches := func(host string) bool {
		for _, p := range allowedHostPatterns(s) {
			if regexp.MustCompile(p.regex).MatchString(host) {
				return true
			}
		}
		return false
	}
	for _, host := range []string{
		"api.github.com", "API.GitHub.com:8080", "storage.googleapis.com", "a.b.googleapis.com:443",
		"registry.example.com:443", "plain.example.com", "plain.example.com:80",
		"orders.shop.svc.cluster.local:8080", "orders.shop.svc", "orders", "orders:8080",
	} {
		if !matches(host) {
			t.Errorf("Host %q is refused, want it allowed", host)
		}
	}
	for _, host := range []string{
		"api.github.com.evil.io", "xapi.github.com", "api-github.com", "googleapis.com", "evilgoogleapis.com",
		"googleapis.com.evil.io", "registry.example.com", "registry.example.com:8443", "plain.example.com:8080",
		"orders.shop", "evil.com", "10.0.0.1:80", "[::1]:15000", "api.github.com:80@evil.io", "",
	} {
		if matches(host) {
			t.Errorf("Host %q is allowed, want it refused", host)
		}
	}
}
