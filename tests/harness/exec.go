package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/planeless/planeless/tests/apps/echo"
)

// Exec runs a command inside the pod's network namespace (with its
// /etc/hosts) as uid (0: root; gid = uid) and returns its stdout. A
// command named "testapp" runs the test application binary.
func (p *Pod) Exec(ctx context.Context, uid int64, argv ...string) (string, error) {
	if len(argv) > 0 && argv[0] == "testapp" {
		argv = slices.Concat([]string{p.h.testapp}, argv[1:])
	}
	args := []string{"netns", "exec", p.NS}
	if uid != 0 {
		args = append(args, "setpriv")
		args = append(args, credentials(uid, uid, argv...)...)
	} else {
		args = append(args, argv...)
	}
	return run(ctx, "ip", args...)
}

// Get makes the pod's app (its UID, so through its sidecar) GET url;
// headers are "Key: value".
func (p *Pod) Get(t T, url string, headers ...string) echo.Response {
	t.Helper()
	return p.GetAs(t, p.AppUID, url, headers...)
}

// GetAs is Get as another user.
func (p *Pod) GetAs(t T, uid int64, url string, headers ...string) echo.Response {
	t.Helper()
	return p.Request(t, uid, "GET", url, "", headers...)
}

// Request makes uid send an HTTP request with a method and a body.
func (p *Pod) Request(t T, uid int64, method, url, body string, headers ...string) echo.Response {
	t.Helper()
	argv := []string{"testapp", "get", "-X", method, "-d", body}
	for _, h := range headers {
		argv = append(argv, "-H", h)
	}
	out, err := p.Exec(t.Context(), uid, append(argv, url)...)
	if err != nil {
		t.Fatalf("pod %s: %s %s: %v", p.Name, method, url, err)
	}
	var r echo.Response
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("pod %s: %s %s: decoding %q: %v", p.Name, method, url, out, err)
	}
	return r
}

// GRPC makes the pod's app call testapp grpc-call with args (e.g.
// "-target", "server:9090", "-payload", "hi").
func (p *Pod) GRPC(t T, args ...string) echo.GRPCResult {
	t.Helper()
	out, err := p.Exec(t.Context(), p.AppUID, slices.Concat([]string{"testapp", "grpc-call"}, args)...)
	if err != nil {
		t.Fatalf("pod %s: grpc-call %v: %v", p.Name, args, err)
	}
	var r echo.GRPCResult
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("pod %s: grpc-call: decoding %q: %v", p.Name, out, err)
	}
	return r
}

// TCP makes the pod's app send msg to addr over raw TCP and returns the
// reply.
func (p *Pod) TCP(t T, addr, msg string) (string, error) {
	t.Helper()
	return p.Exec(t.Context(), p.AppUID, "testapp", "tcp-call", "-addr", addr, "-msg", msg)
}

// Admin GETs path from Envoy's admin interface, from inside the pod as
// the proxy's UID (the admin listens on loopback only).
func (p *Pod) Admin(t T, path string) string {
	t.Helper()
	url := fmt.Sprintf("http://127.0.0.1:%d%s", p.AdminPort(t), path)
	r := p.GetAs(t, p.ProxyUID, url)
	if r.Error != "" || r.Status != 200 {
		t.Fatalf("pod %s: admin %s: status %d %s", p.Name, path, r.Status, r.Error)
	}
	return r.Body
}

// Rules returns the pod's iptables and ip6tables rules (nft and legacy),
// without counters and comments, for comparing before and after.
func (p *Pod) Rules(t T) string {
	t.Helper()
	var b strings.Builder
	for _, save := range []string{"iptables-nft-save", "ip6tables-nft-save", "iptables-legacy-save", "ip6tables-legacy-save"} {
		out, err := p.Exec(t.Context(), 0, save)
		if err != nil {
			continue // that backend is not installed
		}
		fmt.Fprintf(&b, "### %s\n", save)
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, "#") || line == "" {
				continue
			}
			if strings.HasPrefix(line, ":") {
				line, _, _ = strings.Cut(line, " [")
			}
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}
