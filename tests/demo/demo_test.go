package main

import (
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/planeless/planeless/tests/golden"
	"github.com/planeless/planeless/tests/need"
)

// TestDemoRunsToTheEnd keeps `make demo` from rotting: the whole demo,
// with a short burst of traffic, must finish without an error and print
// what issue 5 promises: per-destination metrics, a trace of users → web
// → orders, and `planeless tap` lines.
func TestDemoRunsToTheEnd(t *testing.T) {
	need.Root(t)
	need.Envoy(t)
	need.Command(t, "prometheus", "apt-get install prometheus")
	need.Command(t, "java", "make system-deps (apt-get install default-jre-headless)")
	need.Tool(t, "PLANELESS_ZIPKIN_JAR", filepath.Join("zipkin", "zipkin-server.jar"), "make zipkin")
	var out strings.Builder
	r := &runner{ctx: t.Context(), out: &out}
	code := r.run(func() { demo(r, 3*time.Second, false) })
	t.Logf("the demo printed:\n%s", out.String())
	if code != 0 {
		t.Fatalf("the demo exited with %d", code)
	}

	report := out.String()
	for name, want := range map[string]*regexp.Regexp{
		"a request rate per destination": regexp.MustCompile(`(?m)^\s+demo / web / orders:8080\s+[0-9.]+/s$`),
		// The tree: web's sidecar served users' request, web's request to
		// orders is its child, and orders' sidecar reported its side.
		"the trace's root, web serving users": regexp.MustCompile(`(?m)^\s+web\.demo\s+SERVER\s.*/call\?url=.* → 200$`),
		"web's call to orders, its child":     regexp.MustCompile(`(?m)^\s+└─ web\.demo\s+CLIENT\s.*http://orders:8080/.* → 200$`),
		"orders serving it, a grandchild":     regexp.MustCompile(`(?m)^\s+└─ orders\.demo\s+SERVER\s.* → 200$`),
		// tap: one request from users (no sidecar) that only web saw;
		// the pairing across web's and orders' sidecars is checked below.
		"a tap line from users to web": regexp.MustCompile(`(?m)^\s+\d\d:\d\d:\d\d\.\d{3}\s+-\s+web\s+GET\s+\d{3}\s.*web:8080\s+/call\?url=`),
	} {
		if !want.MatchString(report) {
			t.Errorf("the demo did not print %s (%s)", name, want)
		}
	}
	// The retry step: the canary fails 30% of web's requests before the
	// annotation (at least 15% of 300 but with probability below 1e-8),
	// under 5% after (0.81% expected: four tries that all fail).
	ratios := map[string]float64{}
	for _, m := range regexp.MustCompile(`(?m)^\s+(before|after)\s+300 requests from web to orders-canary:8080: \d+ failed \(([0-9.]+)%\); Prometheus error ratio ([0-9.]+)%$`).FindAllStringSubmatch(report, -1) {
		ratios[m[1]], _ = strconv.ParseFloat(m[2], 64)
		ratios[m[1]+" in Prometheus"], _ = strconv.ParseFloat(m[3], 64)
	}
	if len(ratios) != 4 || ratios["before"] < 15 || ratios["after"] > 5 || ratios["before in Prometheus"] < 15 || ratios["after in Prometheus"] > 5 {
		t.Errorf("the retry step's error ratios before and after the annotation: %v, want at least 15%% before and at most 5%% after", ratios)
	}

	_, toOrders, ok := strings.Cut(report, "tap ns/demo --authority orders:8080 --method GET")
	if !ok {
		t.Fatalf("the demo did not print the tap lines with --authority orders:8080 --method GET")
	}
	toOrders, _, _ = strings.Cut(toOrders, "tap ns/demo --status")
	if paired := regexp.MustCompile(`(?m)^\s+\d\d:\d\d:\d\d\.\d{3}\s+web\s+orders\s+GET\s+\d{3}\s.*orders:8080\s+/orders/`); !paired.MatchString(toOrders) {
		t.Errorf("no tap line paired from web to orders under --authority orders:8080 --method GET (%s)", paired)
	}

	_, failed, ok := strings.Cut(report, "tap ns/demo --status 500-599")
	if !ok {
		t.Fatalf("the demo did not print the tap lines with --status 500-599")
	}
	failed, _, _ = strings.Cut(failed, "requests in all")
	lines := regexp.MustCompile(`(?m)^\s+\d\d:\d\d:\d\d\.\d{3}\s.*$`).FindAllString(failed, -1)
	if len(lines) == 0 {
		t.Errorf("no tap line with --status 500-599")
	}
	for _, l := range lines {
		if !regexp.MustCompile(`\s(5\d\d)[ A-Za-z]*\s+\d+ms\s`).MatchString(l) {
			t.Errorf("a tap line with --status 500-599 has another status: %q", l)
		}
	}
}
