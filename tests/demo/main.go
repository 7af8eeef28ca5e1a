package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"golang.org/x/term"
	corev1 "k8s.io/api/core/v1"

	"github.com/planeless/planeless/tests/harness"
	"github.com/planeless/planeless/tests/need"
)

func main() {
	duration := flag.Duration("duration", 30*time.Second, "how long to drive traffic")
	hold := flag.Bool("hold", false, "keep everything running after the report, until Ctrl-C (Prometheus and Zipkin stay up)")
	flag.Parse()

	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "make demo needs root: it creates network namespaces, a bridge and iptables rules.\nRun it again with: sudo make demo")
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGPIPE)
	defer stop()
	r := &runner{ctx: ctx, out: os.Stdout, color: term.IsTerminal(int(os.Stdout.Fd()))}
	os.Exit(r.run(func() { demo(r, *duration, *hold) }))
}

func demo(r *runner, duration time.Duration, hold bool) {
	manifest := filepath.Join(need.RepoRoot(), "tests", "demo", "demo.yaml")
	h := harness.New(r)
	// Zipkin first, in a pod of its own: it takes a while to come up.
	z := startZipkin(r, h)

	r.step("1. planeless inject -f tests/demo/demo.yaml")
	injected := z.addressIn(r, manifest, h.Dir())
	pods := harness.Inject(r, injected)
	services, err := readServices(manifest)
	if err != nil {
		r.Fatal(err)
	}
	r.printf("   %d pods; the collector %s is given by its address, %s\n", len(pods), zipkinEndpoint, z.Addr)

	r.step("2. starting the injected pods: network namespaces, `planeless init` (iptables), Envoy as UID 1337, the apps")
	var running []*harness.Pod
	byName := map[string]*harness.Pod{}
	for _, pod := range pods {
		p := h.Start(r, pod, harness.PodOptions{Apps: appsOf(pod), Aliases: aliasesOf(pod, services)})
		running, byName[pod.Name] = append(running, p), p
		r.printf("   %-10s %-14s %s/%s version=%s\n", pod.Name, p.IP, pod.Namespace, pod.Labels["app"], pod.Labels["version"])
	}
	users := h.Plain(r, "users", harness.PodOptions{})
	r.printf("   %-10s %-14s (no sidecar: the outside world)\n", "users", users.IP)
	prom := h.StartPrometheus(r, h.Pods())
	r.printf("   prometheus %s, scraping every pod's prometheus.io/port and path\n", prom.URL)
	z.wait(r)
	r.printf("   zipkin     %s, receiving the spans of every sidecar (planeless.dev/tracing: zipkin)\n", z.URL)

	r.step(fmt.Sprintf("3. driving traffic for %s: users → web → orders (REST), web → orders (gRPC), and a slower, flakier canary orders-v2", duration))
	drive(r, users, byName["web"], duration)

	r.step("4. what planeless added to the web pod (abridged; `planeless inject -f tests/demo/demo.yaml` prints it all)")
	showPod(r, byName["web"].Object)

	r.step("5. what Prometheus now knows, with no configuration besides the pods' annotations")
	showQueries(r, prom)

	r.step("6. access logs: the web pod's Envoy stdout (last lines)")
	showAccessLogs(r, byName["web"])

	r.step("7. a trace: users → web → orders, as the sidecars reported it to Zipkin (web copies the trace headers)")
	showTrace(r, z)

	r.step("8. planeless tap: the same sidecar logs, each request once, client and server sides paired")
	showTap(r, running)

	r.step("9. retries, without a control plane: web's requests to the flaky canary, before and after planeless.dev/routes")
	showRetries(r, prom, byName["web"], injected)

	if hold {
		r.step("holding: Prometheus at " + prom.URL + " (try the queries above), Zipkin at " + z.URL + "/zipkin/; Ctrl-C to clean up")
		<-r.ctx.Done()
	}
}

// drive sends traffic until d has passed: users call web, which calls
// orders (REST) and orders-canary; web also calls orders over gRPC.
// Requests under way then finish: cutting them would log them as
// downstream disconnects (0 DC) that no user caused.
func drive(r *runner, users, web *harness.Pod, d time.Duration) {
	ctx, end := r.ctx, time.Now().Add(d)
	callees := []string{
		"http://orders:8080/orders/42",
		"http://orders:8080/orders/42",
		"http://orders:8080/orders/7?status=503",
		"http://orders-canary:8080/orders/42?delay=40ms",
		"http://orders-canary:8080/orders/42?delay=40ms",
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var rest, grpc int
	for worker := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := worker; ctx.Err() == nil && time.Now().Before(end); i++ {
				if worker == 2 {
					args := []string{"testapp", "grpc-call", "-target", "orders:8080", "-payload", "order"}
					if i%10 == 0 {
						args = append(args, "-code", "14")
					}
					if _, err := web.Exec(ctx, web.AppUID, args...); err == nil {
						mu.Lock()
						grpc++
						mu.Unlock()
					}
					continue
				}
				callee := callees[i%len(callees)]
				if _, err := users.Exec(ctx, users.AppUID, "testapp", "get", "http://web:8080/call?url="+url.QueryEscape(callee)); err == nil {
					mu.Lock()
					rest++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if r.ctx.Err() != nil {
		r.stop()
	}
	r.printf("   sent %d REST requests (users → web → orders) and %d gRPC calls (web → orders)\n", rest, grpc)
	// Let Envoy flush its histograms and Prometheus scrape them.
	time.Sleep(6 * time.Second)
}

func appsOf(pod *corev1.Pod) map[string][]string {
	apps := map[string][]string{}
	for _, c := range pod.Spec.Containers {
		if c.Name != harness.ProxyContainerName {
			apps[c.Name] = c.Args
		}
	}
	return apps
}
