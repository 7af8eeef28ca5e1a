package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"time"

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

// Admin GETs path from Envoy's admin interface and fails the test unless
// it answers 200.
func (p *Pod) Admin(t T, path string) string {
	t.Helper()
	code, body := p.AdminRequest(t, http.MethodGet, path)
	if code != http.StatusOK {
		t.Fatalf("pod %s: admin %s: status %d %s", p.Name, path, code, body)
	}
	return body
}

// AdminRequest sends method path to Envoy's admin interface through its
// Unix socket, found where the proxy container mounts the volume that
// holds it, as root (like `kubectl exec` into the proxy).
func (p *Pod) AdminRequest(t T, method, path string) (int, string) {
	t.Helper()
	socket, err := p.AdminSocket()
	if err != nil {
		t.Fatalf("pod %s: %v", p.Name, err)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", socket)
		},
	}}
	req, err := http.NewRequestWithContext(t.Context(), method, "http://admin"+path, nil)
	if err != nil {
		t.Fatalf("pod %s: %v", p.Name, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("pod %s: admin %s %s: %v", p.Name, method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("pod %s: admin %s %s: %v", p.Name, method, path, err)
	}
	return resp.StatusCode, string(body)
}

// AdminSocket is the path, on this machine, of Envoy's admin socket: the
// bootstrap's admin pipe, in the pod folder of the volume the proxy
// container mounts there.
func (p *Pod) AdminSocket() (string, error) {
	var b struct {
		Admin struct {
			Address struct {
				Pipe struct {
					Path string `json:"path"`
				} `json:"pipe"`
			} `json:"address"`
		} `json:"admin"`
	}
	if err := json.Unmarshal([]byte(p.Bootstrap()), &b); err != nil {
		return "", fmt.Errorf("reading the bootstrap: %w", err)
	}
	path := b.Admin.Address.Pipe.Path
	if path == "" {
		return "", fmt.Errorf("the bootstrap's admin interface is not a Unix socket")
	}
	for _, m := range p.proxy.VolumeMounts {
		if rel, err := filepath.Rel(m.MountPath, path); err == nil && !strings.HasPrefix(rel, "..") {
			return filepath.Join(p.VolumeDir(m.Name), rel), nil
		}
	}
	return "", fmt.Errorf("no volume of the proxy container holds its admin socket %s", path)
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
