package node

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// DialContext connects from inside the node's network namespace, where
// pods, Services and the node's own daemons are reachable (the host
// reaches only the API server). The socket is made on a thread that
// entered the namespace, then used from anywhere.
func (c *Cluster) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	type result struct {
		conn net.Conn
		err  error
	}
	done := make(chan result, 1)
	go func() {
		// The thread never leaves the namespace: it dies with the goroutine.
		runtime.LockOSThread()
		ns, err := unix.Open("/run/netns/"+c.netns(), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			done <- result{err: fmt.Errorf("opening the node's namespace: %w", err)}
			return
		}
		defer unix.Close(ns)
		if err := unix.Unshare(unix.CLONE_FS); err != nil {
			done <- result{err: err}
			return
		}
		if err := unix.Setns(ns, unix.CLONE_NEWNET); err != nil {
			done <- result{err: fmt.Errorf("entering the node's namespace: %w", err)}
			return
		}
		var d net.Dialer
		conn, err := d.DialContext(ctx, network, addr)
		done <- result{conn, err}
	}()
	r := <-done
	return r.conn, r.err
}

// HTTPClient sends requests from inside the node's network namespace.
func (c *Cluster) HTTPClient(timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DialContext:       c.DialContext,
			DisableKeepAlives: true,
		},
	}
}
