package podcmd

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeAdmin serves /ready on a Unix socket like Envoy's admin: 503 until
// it has been asked notReady times, then 200.
func fakeAdmin(t *testing.T, notReady int64) (string, *atomic.Int64) {
	t.Helper()
	socket := filepath.Join(t.TempDir(), "admin.sock")
	l, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	var asked atomic.Int64
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/ready" {
			http.NotFound(w, r)
			return
		}
		if asked.Add(1) <= notReady {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("PRE_INITIALIZING\n"))
			return
		}
		_, _ = w.Write([]byte("LIVE\n"))
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return socket, &asked
}

func TestWait(t *testing.T) {
	t.Run("returns once envoy answers ready, after asking again while it was not", func(t *testing.T) {
		socket, asked := fakeAdmin(t, 3)
		if err := waitReady(context.Background(), socket); err != nil {
			t.Fatal(err)
		}
		if got := asked.Load(); got != 4 {
			t.Errorf("asked /ready %d times, want 4 (3 not ready, then ready)", got)
		}
	})
	t.Run("fails when envoy is never ready, saying what it last answered", func(t *testing.T) {
		socket, _ := fakeAdmin(t, 1<<40)
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		err := waitReady(ctx, socket)
		if err == nil || !strings.Contains(err.Error(), socket) || !strings.Contains(err.Error(), "PRE_INITIALIZING") {
			t.Errorf("error %v, want one naming the socket and Envoy's last answer", err)
		}
	})
	t.Run("fails when nothing listens on the socket, naming it", func(t *testing.T) {
		socket := filepath.Join(t.TempDir(), "absent.sock")
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		if err := waitReady(ctx, socket); err == nil || !strings.Contains(err.Error(), socket) {
			t.Errorf("error %v, want one naming the socket", err)
		}
	})
	t.Run("refuses a timeout out of range", func(t *testing.T) {
		cmd := Wait()
		cmd.SetArgs([]string{"--timeout=0s"})
		cmd.SetOut(new(strings.Builder))
		cmd.SetErr(new(strings.Builder))
		if err := cmd.Execute(); err == nil || !strings.Contains(err.Error(), "--timeout") {
			t.Errorf("error %v, want one naming --timeout", err)
		}
	})
}
