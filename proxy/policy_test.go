package proxy

import (
	"errors"
	"fmt"
	"github.com/planeless/planeless/tests/pods"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The example, word for word.
const istio101Routes = `
middleware:
  timeout: 10s
  retries: {attempts: 3, perTryTimeout: 2s, on: [5xx, reset, connect-failure]}
  rules:
  - match: {headers: {x-dev-user: super-secret}}
    to: middleware-canary
  - to: {middleware-prod: 80, middleware-canary: 20}
  fault: {abort: {status: 503, percent: 10}, delay: {fixed: 2s, percent: 5}}
`

func TestRoutesReadTheIstio101Example(t *testing.T) {
	s, _, err := FromPod(testPod(pods.Annotation(Prefix+"routes", istio101Routes)), DefaultDefaults())
	if err != nil {
		t.Fatal(err)
	}
	svc := func(name string) Service { return Service{Name: name, Namespace: "shop", Port: 80} }
	want := []Destination{{
		Key:     "middleware",
		Service: svc("middleware"),
		Timeout: 10 * time.Second,
		Retries: &Retries{Attempts: 3, PerTryTimeout: 2 * time.Second, On: []string{"5xx", "reset", "connect-failure"}},
		Rules: []Rule{
			{Headers: []HeaderMatch{{"x-dev-user", "super-secret"}}, Targets: []Target{{svc("middleware-canary"), 100}}},
			{Targets: []Target{{svc("middleware-canary"), 20}, {svc("middleware-prod"), 80}}},
		},
		Fault: &Fault{Abort: &Abort{Status: 503, Percent: 10}, Delay: &Delay{Fixed: 2 * time.Second, Percent: 5}},
	}}
	if diff := cmp.Diff(want, s.Policy.Destinations); diff != "" {
		t.Errorf("destinations (-want +got):\n%s", diff)
	}
}

func TestRoutes(t *testing.T) {
	tests := map[string]struct {
		routes string
		check  func(t *testing.T, d []Destination)
		// wantErr are the parts of the message, which names the field.
		wantErr []string
	}{
		"a destination alone sends everything to itself": {
			routes: "middleware:",
			check: func(t *testing.T, d []Destination) {
				want := []Rule{{Targets: []Target{{Service{"middleware", "shop", 80}, 100}}}}
				if diff := cmp.Diff(want, d[0].Rules); diff != "" {
					t.Errorf("rules (-want +got):\n%s", diff)
				}
			},
		},
		"requests no rule matches go to the destination itself": {
			routes: "api:8080: {rules: [{match: {headers: {x-beta: 'yes'}}, to: api-beta}]}",
			check: func(t *testing.T, d []Destination) {
				last := d[0].Rules[len(d[0].Rules)-1]
				want := Rule{Targets: []Target{{Service{"api", "shop", 8080}, 100}}}
				if diff := cmp.Diff(want, last); diff != "" {
					t.Errorf("the default rule (-want +got):\n%s", diff)
				}
				if got := d[0].Rules[0].Targets[0].Service; got != (Service{"api-beta", "shop", 8080}) {
					t.Errorf("a target without a port has %v, want the destination's port 8080", got)
				}
			},
		},
		"namespaces and ports are kept": {
			routes: "billing.finance:9090: {rules: [{to: {billing-v2.finance:9091: 100}}]}",
			check: func(t *testing.T, d []Destination) {
				assert(t, d[0].Service == Service{"billing", "finance", 9090}, "service %v", d[0].Service)
				assert(t, d[0].Rules[0].Targets[0].Service == Service{"billing-v2", "finance", 9091}, "target %v", d[0].Rules[0].Targets[0])
			},
		},
		"retries default to two attempts on 5xx, reset and connect-failure": {
			routes: "a: {retries: {}}",
			check: func(t *testing.T, d []Destination) {
				want := &Retries{Attempts: 2, On: DefaultRetryOn}
				if diff := cmp.Diff(want, d[0].Retries); diff != "" {
					t.Errorf("retries (-want +got):\n%s", diff)
				}
			},
		},
		"retries take status codes and a comma-separated string": {
			routes: "a: {retries: {on: '503, connect-failure'}}\nb: {retries: {on: [409, unavailable]}}",
			check: func(t *testing.T, d []Destination) {
				assert(t, cmp.Equal(d[0].Retries.On, []string{"connect-failure"}) && cmp.Equal(d[0].Retries.Statuses, []uint32{503}), "a: %+v", d[0].Retries)
				assert(t, cmp.Equal(d[1].Retries.On, []string{"unavailable"}) && cmp.Equal(d[1].Retries.Statuses, []uint32{409}), "b: %+v", d[1].Retries)
			},
		},
		"faults default to every request": {
			routes: "a: {fault: {abort: {status: 500}, delay: {fixed: 100ms}}}",
			check: func(t *testing.T, d []Destination) {
				want := &Fault{Abort: &Abort{Status: 500, Percent: 100}, Delay: &Delay{Fixed: 100 * time.Millisecond, Percent: 100}}
				if diff := cmp.Diff(want, d[0].Fault); diff != "" {
					t.Errorf("fault (-want +got):\n%s", diff)
				}
			},
		},
		"destinations are sorted": {
			routes: "zeta: {}\nalpha: {}\nalpha:8080: {}",
			check: func(t *testing.T, d []Destination) {
				var got []string
				for _, x := range d {
					got = append(got, x.Service.String())
				}
				want := []string{"alpha.shop:80", "alpha.shop:8080", "zeta.shop:80"}
				assert(t, cmp.Equal(got, want), "order %v, want %v", got, want)
			},
		},

		"a per-try timeout must be a duration": {
			routes:  "middleware: {retries: {perTryTimeout: 2}}",
			wantErr: []string{`routes.middleware.retries.perTryTimeout: "2" is not a duration`},
		},
		"weights must add up to 100": {
			routes:  "middleware: {rules: [{to: {middleware-prod: 80, middleware-canary: 30}}]}",
			wantErr: []string{"routes.middleware.rules[0].to: weights add up to 110, not 100"},
		},
		"a weight must be an integer": {
			routes:  "middleware: {rules: [{to: {a: 80, b: 'twenty'}}]}",
			wantErr: []string{`routes.middleware.rules[0].to.b: "twenty" is not an integer`},
		},
		"an unknown field is named with the known ones": {
			routes:  "middleware: {retries: {attempt: 3}}",
			wantErr: []string{`routes.middleware.retries: unknown field "attempt" (known: attempts, perTryTimeout, on)`},
		},
		"attempts are bounded": {
			routes:  "middleware: {retries: {attempts: 11}}",
			wantErr: []string{"routes.middleware.retries.attempts: 11 is out of range (1 to 10)"},
		},
		"an unknown retry condition is refused": {
			routes:  "m: {retries: {on: [5xx, sometimes]}}",
			wantErr: []string{`routes.m.retries.on[1]: "sometimes" is not a retry condition`},
		},
		"a per-try timeout longer than the timeout is refused": {
			routes:  "m: {timeout: 1s, retries: {perTryTimeout: 2s}}",
			wantErr: []string{"routes.m.retries.perTryTimeout: 2s is longer than the destination's timeout 1s"},
		},
		"a destination must be a Service": {
			routes:  "api.github.com: {}",
			wantErr: []string{`routes.api.github.com: "api.github.com" is not a Service`},
		},
		"a target must be a Service": {
			routes:  "m: {rules: [{to: Middleware_Canary}]}",
			wantErr: []string{`routes.m.rules[0].to: "Middleware_Canary" is not a Service`},
		},
		"a rule after a catch-all would never apply": {
			routes:  "m: {rules: [{to: a}, {to: b}]}",
			wantErr: []string{"routes.m.rules[1]: follows a rule without match"},
		},
		"a rule needs a target": {
			routes:  "m: {rules: [{match: {headers: {x: y}}}]}",
			wantErr: []string{"routes.m.rules[0]: no `to`"},
		},
		"header names are checked": {
			routes:  "m: {rules: [{match: {headers: {'x-a%': y}}, to: a}]}",
			wantErr: []string{`routes.m.rules[0].match.headers: "x-a%" is not a header name`},
		},
		"an abort needs a status": {
			routes:  "m: {fault: {abort: {percent: 10}}}",
			wantErr: []string{"routes.m.fault.abort: no status"},
		},
		"a fault percentage is bounded": {
			routes:  "m: {fault: {delay: {fixed: 1s, percent: 150}}}",
			wantErr: []string{`routes.m.fault.delay.percent: "150" is not a percentage`},
		},
		"two keys naming one Service are refused": {
			routes:  "m: {}\nm.shop: {}",
			wantErr: []string{"routes.m.shop: the same Service as routes.m"},
		},
		"every problem is reported at once": {
			routes:  "a: {timeout: soon}\nb: {fault: {}}",
			wantErr: []string{`routes.a.timeout: "soon" is not a duration`, "routes.b.fault: empty"},
		},
		"not a map": {
			routes:  "- middleware",
			wantErr: []string{"routes: want a map of destinations, not a list"},
		},
		"destinations are bounded": {
			routes:  manyDestinations(MaxRouteDestinations + 1),
			wantErr: []string{"33 destinations, at most 32"},
		},
		"the annotation's size is bounded": {
			routes:  "m: {}\n#" + strings.Repeat("x", maxRoutesBytes),
			wantErr: []string{"bytes, more than the 16384 this annotation may hold"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s, _, err := FromPod(testPod(pods.Annotation(Prefix+"routes", tc.routes)), DefaultDefaults())
			if len(tc.wantErr) > 0 {
				var invalid *InvalidAnnotationError
				if !errors.As(err, &invalid) {
					t.Fatalf("error = %v, want an *InvalidAnnotationError", err)
				}
				for _, want := range tc.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not say %q", err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, s.Policy.Destinations)
		})
	}
}

func manyDestinations(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "d%d: {}\n", i)
	}
	return b.String()
}

// A YAML annotation in an error message is cut to its first line, so the
// reason stays readable.
func TestLongValuesAreAbbreviatedInErrors(t *testing.T) {
	_, _, err := FromPod(testPod(pods.Annotation(Prefix+"routes", "middleware:\n  timeout: soon\n  retries: {}\n")), DefaultDefaults())
	if err == nil || !strings.Contains(err.Error(), `invalid value "middleware:…" for annotation planeless.dev/routes: routes.middleware.timeout`) {
		t.Errorf("error = %v", err)
	}
}

func TestServiceHosts(t *testing.T) {
	got := Service{"middleware", "shop", 80}.Hosts("cluster.local", "shop")
	want := []string{
		"middleware", "middleware:80", "middleware.shop", "middleware.shop:80",
		"middleware.shop.svc", "middleware.shop.svc:80", "middleware.shop.svc.cluster.local", "middleware.shop.svc.cluster.local:80",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("hosts on port 80 in the same namespace (-want +got):\n%s", diff)
	}
	got = Service{"billing", "finance", 9090}.Hosts("k8s.example", "shop")
	want = []string{"billing.finance:9090", "billing.finance.svc:9090", "billing.finance.svc.k8s.example:9090"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("hosts on another port in another namespace (-want +got):\n%s", diff)
	}
}

func TestEgressAllow(t *testing.T) {
	tests := map[string]struct {
		value     string
		wantNames []AllowedName
		wantCIDRs []AllowedCIDR
		wantErr   string
	}{
		"names, wildcards and ports": {
			value:     "api.github.com, *.GoogleAPIs.com, registry.example.com:443",
			wantNames: []AllowedName{{Name: "api.github.com"}, {Name: "googleapis.com", Wildcard: true}, {Name: "registry.example.com", Port: 443}},
		},
		"addresses and ranges, with ports": {
			value: "10.0.0.0/8, 192.168.1.7, 10.1.0.0/16:5432, 10.9.9.9:6379, fd00::/8, [2001:db8::/32]:443, [2001:db8::1]:80",
			wantCIDRs: []AllowedCIDR{
				{Prefix: netip.MustParsePrefix("10.0.0.0/8")},
				{Prefix: netip.MustParsePrefix("192.168.1.7/32")},
				{Prefix: netip.MustParsePrefix("10.1.0.0/16"), Port: 5432},
				{Prefix: netip.MustParsePrefix("10.9.9.9/32"), Port: 6379},
				{Prefix: netip.MustParsePrefix("fd00::/8")},
				{Prefix: netip.MustParsePrefix("2001:db8::/32"), Port: 443},
				{Prefix: netip.MustParsePrefix("2001:db8::1/128"), Port: 80},
			},
		},
		"a range is masked":                      {value: "10.1.2.3/8", wantCIDRs: []AllowedCIDR{{Prefix: netip.MustParsePrefix("10.0.0.0/8")}}},
		"duplicates are dropped":                 {value: "a.example.com,A.example.com", wantNames: []AllowedName{{Name: "a.example.com"}}},
		"a wildcard needs two labels":            {value: "*.com", wantErr: "too broad"},
		"a wildcard only replaces a first label": {value: "api.*.com", wantErr: "is not a host name"},
		"a bad range is refused":                 {value: "10.0.0.0/33", wantErr: "neither a CIDR nor an IP address"},
		"a bad port is refused":                  {value: "10.0.0.0/8:99999", wantErr: "out of range"},
		"entries are bounded":                    {value: strings.Repeat("a.example.com,", MaxEgressAllow+1), wantErr: "65 entries, at most 64"},
		"ports of ranges are bounded":            {value: "10.0.0.1:1,10.0.0.1:2,10.0.0.1:3,10.0.0.1:4,10.0.0.1:5,10.0.0.1:6,10.0.0.1:7,10.0.0.1:8,10.0.0.1:9", wantErr: "on 9 different ports, at most 8"},
		"an empty list is refused":               {value: " , ", wantErr: "no entry given"},
		"a name on any port covers it on one":    {value: "a.example.com:443, a.example.com", wantNames: []AllowedName{{Name: "a.example.com"}}},
		"a name on two ports is refused":         {value: "a.example.com:443, a.example.com:8443", wantErr: "a.example.com is listed with ports 443 and 8443"},
		"loopback is refused":                    {value: "127.0.0.1:15000", wantErr: "is a loopback range"},
		"IPv6 loopback is refused":               {value: "[::1]:15001", wantErr: "is a loopback range"},
		"a range around loopback is accepted":    {value: "0.0.0.0/0", wantCIDRs: []AllowedCIDR{{Prefix: netip.MustParsePrefix("0.0.0.0/0")}}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			names, cidrs, err := parseEgressAllow(tc.value)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantNames, names); diff != "" {
				t.Errorf("names (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantCIDRs, cidrs, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
				t.Errorf("ranges (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEgressPolicy(t *testing.T) {
	d := DefaultDefaults()
	d.EgressAllowedCIDRs = []netip.Prefix{netip.MustParsePrefix("10.96.0.0/12")}

	t.Run("the operator's ranges join the pod's in allow-list mode", func(t *testing.T) {
		s, _, err := FromPod(testPod(
			pods.Annotation(Prefix+"egress-policy", "allow-list"),
			pods.Annotation(Prefix+"egress-allow", "api.github.com,10.1.0.0/16:5432")), d)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"10.1.0.0/16:5432", "10.96.0.0/12"}
		var got []string
		for _, c := range s.Policy.Egress.CIDRs {
			got = append(got, c.String())
		}
		assert(t, cmp.Equal(want, got), "ranges %v, want %v", got, want)
	})
	t.Run("the chart's mode is the default", func(t *testing.T) {
		d := d
		d.EgressPolicy = EgressAllowList
		s, _, err := FromPod(testPod(), d)
		if err != nil {
			t.Fatal(err)
		}
		assert(t, s.Policy.Egress.Mode == EgressAllowList, "mode %q", s.Policy.Egress.Mode)
		s, _, err = FromPod(testPod(pods.Annotation(Prefix+"egress-policy", "open")), d)
		assert(t, err == nil && s.Policy.Egress.Mode == EgressOpen && len(s.Policy.Egress.CIDRs) == 0, "a pod cannot open up: %v %+v", err, s.Policy.Egress)
	})
	t.Run("an allow-list without outbound capture is refused", func(t *testing.T) {
		_, _, err := FromPod(testPod(pods.Annotation(Prefix+"egress-policy", "allow-list"), pods.Annotation(Prefix+"egress", "false")), d)
		if err == nil || !strings.Contains(err.Error(), "an allow-list needs outbound capture") {
			t.Errorf("error = %v", err)
		}
	})
	t.Run("egress-allow in open mode is a warning", func(t *testing.T) {
		_, warnings, err := FromPod(testPod(pods.Annotation(Prefix+"egress-allow", "api.github.com")), d)
		if err != nil || len(warnings) != 1 || !strings.Contains(warnings[0], "egress-allow has no effect") {
			t.Errorf("warnings %q, error %v", warnings, err)
		}
	})
	t.Run("the operator's defaults are validated", func(t *testing.T) {
		bad := DefaultDefaults()
		bad.EgressPolicy, bad.ClusterDomain = "closed", "Cluster_Local"
		bad.EgressAllowedCIDRs = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/16")}
		err := bad.Validate()
		for _, want := range []string{`egress policy "closed"`, `cluster domain "Cluster_Local"`, "127.0.0.0/16 is a loopback range"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Validate() = %v, want it to say %s", err, want)
			}
		}
	})
}
