package dataplane

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/planeless/planeless/bootstrap"
	"github.com/planeless/planeless/tests/apps/echo"
	"github.com/planeless/planeless/tests/certs"
	"github.com/planeless/planeless/tests/harness"
)

// TestEgressAllowList runs a pod whose planeless.dev/egress-policy is
// allow-list on the real Envoy, against servers outside its list: allowed
// names work over HTTP and TLS, a forbidden name gets 403 or a closed TLS
// connection, an allowed Host or server name sent to a forbidden address
// reaches the allowed name, not that address (even where the forbidden
// server holds a valid certificate for it), TCP goes to the allowed range
// and port only, and every refusal is counted and logged with its reason.
func TestEgressAllowList(t *testing.T) {
	t.Parallel()
	h := harness.New(t)

	// One CA; the forbidden server has a certificate for the allowed name
	// too, the worst case: only where the connection goes tells them apart.
	ca := certs.NewCA(t)
	dir := h.Dir()
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, ca.PEM, 0o644); err != nil {
		t.Fatal(err)
	}
	issue := func(name string, hosts ...string) []string {
		d := filepath.Join(dir, name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		p := ca.Issue(t, d, hosts...)
		for _, f := range []string{p.CertFile, p.KeyFile} {
			if err := os.Chmod(f, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return []string{"-tls-cert", p.CertFile, "-tls-key", p.KeyFile}
	}
	https := func(name string, tls []string) []string {
		return append([]string{"rest", "-listen", ":8443", "-name", name}, tls...)
	}
	h.Plain(t, "external", harness.PodOptions{
		Apps: map[string][]string{
			"web": {"rest", "-listen", ":8080", "-name", "external"},
			"tls": https("external-tls", issue("external", "api.example.com", "x.storage.example.com", "secure.example.com")),
		},
		Aliases: []string{"api.example.com", "x.storage.example.com", "secure.example.com"},
	})
	evil := h.Plain(t, "evil", harness.PodOptions{
		Apps: map[string][]string{
			"web": {"rest", "-listen", ":8080", "-name", "evil"},
			"tls": https("evil-tls", issue("evil", "evil.example.com", "api.example.com")),
			"tcp": {"tcp-echo", "-listen", ":7000"},
		},
		Aliases: []string{"evil.example.com"},
	})
	echoPod := h.Plain(t, "echo", harness.PodOptions{Apps: map[string][]string{
		"allowed":   {"tcp-echo", "-listen", ":7000"},
		"forbidden": {"tcp-echo", "-listen", ":7001"},
	}})
	h.Plain(t, "inside", harness.PodOptions{
		Apps:    map[string][]string{"web": {"rest", "-listen", ":8080", "-name", "inside"}},
		Aliases: service("inside"),
	})

	manifest := filepath.Join(t.TempDir(), "egress.yaml")
	tmpl := template.Must(template.ParseFiles(filepath.Join("testdata", "egress.yaml")))
	f, err := os.Create(manifest)
	if err != nil {
		t.Fatal(err)
	}
	if err := tmpl.Execute(f, map[string]string{"Echo": echoPod.IP.String()}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	client := h.Start(t, harness.Inject(t, manifest)[0], harness.PodOptions{
		Apps: map[string][]string{"web": {"rest", "-listen", ":8080", "-name", "client"}},
	})

	served := func(t *testing.T, r echo.Response) string {
		t.Helper()
		var got echo.Request
		if r.Status != 200 || json.Unmarshal([]byte(r.Body), &got) != nil {
			t.Fatalf("status %d %q %s, want 200 from an echo server", r.Status, r.Body, r.Error)
		}
		return got.Server
	}
	tls := func(url string, flags ...string) echo.Response {
		argv := append([]string{"testapp", "get", "-cacert", caFile}, flags...)
		out, err := client.Exec(t.Context(), client.AppUID, append(argv, url)...)
		if err != nil {
			t.Fatalf("get %s: %v", url, err)
		}
		var r echo.Response
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("decoding %q: %v", out, err)
		}
		return r
	}
	// refusals is what the refusals should add up to, by reason and
	// destination.
	refusals := map[[2]string]int{}
	refused := func(reason, destination string) { refusals[[2]string{reason, destination}]++ }
	evilIP, echoIP := evil.IP.String(), echoPod.IP.String()
	before := client.Stats(t)

	t.Run("allowed names work over HTTP, wildcards included", func(t *testing.T) {
		for _, url := range []string{"http://api.example.com:8080/", "http://x.storage.example.com:8080/"} {
			if got := served(t, client.Get(t, url)); got != "external" {
				t.Errorf("%s answered by %s, want external", url, got)
			}
		}
	})
	t.Run("the cluster's Services are allowed by default", func(t *testing.T) {
		for _, url := range []string{"http://inside:8080/", "http://inside.shop.svc.cluster.local:8080/"} {
			if got := served(t, client.Get(t, url)); got != "inside" {
				t.Errorf("%s answered by %s, want inside", url, got)
			}
		}
	})
	t.Run("a forbidden name gets 403 naming the annotation", func(t *testing.T) {
		for _, host := range []string{"evil.example.com:8080", "secure.example.com:8080"} {
			r := client.Get(t, "http://"+host+"/")
			refused(bootstrap.ReasonHostNotAllowed, host)
			if r.Status != 403 || !strings.Contains(r.Body, "planeless.dev/egress-allow") || !strings.Contains(r.Body, host) {
				t.Errorf("%s: %d %q, want 403 naming %s and planeless.dev/egress-allow", host, r.Status, r.Body, host)
			}
		}
	})
	t.Run("an allowed Host sent to a forbidden address reaches the allowed name", func(t *testing.T) {
		r := client.Get(t, "http://"+evilIP+":8080/", "Host: api.example.com:8080")
		if got := served(t, r); got != "external" {
			t.Errorf("Host api.example.com dialled at evil's address answered by %s, want external", got)
		}
	})
	t.Run("allowed server names work over TLS", func(t *testing.T) {
		for _, url := range []string{"https://api.example.com:8443/", "https://secure.example.com:8443/"} {
			if got := served(t, tls(url)); got != "external-tls" {
				t.Errorf("%s answered by %s, want external-tls", url, got)
			}
		}
	})
	t.Run("an allowed server name sent to a forbidden address reaches the allowed name", func(t *testing.T) {
		r := tls("https://api.example.com:8443/", "-connect-to", evilIP+":8443")
		if got := served(t, r); got != "external-tls" {
			t.Errorf("server name api.example.com dialled at evil's address answered by %s, want external-tls (evil holds a certificate for it too)", got)
		}
	})
	t.Run("a forbidden server name gets a closed connection", func(t *testing.T) {
		r := tls("https://evil.example.com:8443/")
		refused(bootstrap.ReasonServerNameNotAllowed, "evil.example.com")
		if r.Status != 0 || r.Error == "" {
			t.Errorf("TLS to evil.example.com: %d %q, want no response", r.Status, r.Body)
		}
	})
	t.Run("TCP reaches the allowed range on the allowed port only", func(t *testing.T) {
		if got, err := client.TCP(t, echoIP+":7000", "hello"); err != nil || got != "hello" {
			t.Errorf("TCP to %s:7000: %q %v, want the echo", echoIP, got, err)
		}
		for _, addr := range []string{echoIP + ":7001", evilIP + ":7000"} {
			got, err := client.TCP(t, addr, "hello")
			if err == nil {
				t.Errorf("TCP to %s answered %q, want a closed connection", addr, got)
			}
		}
		refused(bootstrap.ReasonPortNotAllowed, echoIP+":7001")
		refused(bootstrap.ReasonDestinationNotAllowed, evilIP+":7000")
	})
	t.Run("HTTP to an allowed address on another port gets 403", func(t *testing.T) {
		r := client.Get(t, "http://"+echoIP+":7001/")
		refused(bootstrap.ReasonPortNotAllowed, echoIP+":7001")
		if r.Status != 403 || !strings.Contains(r.Body, "allowed on other ports only") {
			t.Errorf("HTTP to %s:7001: %d %q, want 403", echoIP, r.Status, r.Body)
		}
	})

	t.Run("every refusal is counted and logged with its reason", func(t *testing.T) {
		after := client.Stats(t)
		total := 0
		for key, want := range refusals {
			match := map[string]string{bootstrap.LabelReason: key[0], bootstrap.LabelDestination: key[1]}
			got := after.Sum(bootstrap.EgressRefusedMetric, match) - before.Sum(bootstrap.EgressRefusedMetric, match)
			if got != float64(want) {
				t.Errorf("%s%v = %v, want %d", bootstrap.EgressRefusedMetric, match, got, want)
			}
			total += want
		}
		if got := after.Sum(bootstrap.EgressRefusedMetric, nil) - before.Sum(bootstrap.EgressRefusedMetric, nil); got != float64(total) {
			t.Errorf("%s grew by %v in all, want %d", bootstrap.EgressRefusedMetric, got, total)
		}
		// Envoy flushes its log every few seconds: wait for the lines.
		var logged map[[2]string]int
		var example string
		for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			logged = map[[2]string]int{}
			for _, line := range strings.Split(client.EnvoyStdout(t), "\n") {
				var l map[string]string
				if json.Unmarshal([]byte(line), &l) == nil && l["event"] == bootstrap.RefusalEvent {
					logged[[2]string{l["reason"], l["destination"]}]++
					example = line
				}
			}
			if maps.Equal(logged, refusals) || time.Now().After(deadline) {
				break
			}
		}
		// The log names an HTTP refusal by its Host, like the counter.
		if !maps.Equal(logged, refusals) {
			t.Errorf("refusals logged by reason and destination: %v, want %v", logged, refusals)
		}
		t.Logf("refusals: %v; one of the log lines: %s", refusals, example)
	})
}
