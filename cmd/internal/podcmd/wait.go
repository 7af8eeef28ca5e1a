package podcmd

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/planeless/planeless/proxy"
)

// waitPoll is how often wait asks Envoy whether it is ready: Envoy is
// usually ready within a tenth of a second of starting.
const waitPoll = 20 * time.Millisecond

// Wait is the native sidecar's postStart hook: the kubelet starts the
// pod's next container only when it returns, so the application starts as
// soon as Envoy is ready (a startup probe would add up to its 1 s period,
// often twice), and never before.
func Wait() *cobra.Command {
	var (
		socket  string
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "wait",
		Short: "Wait until the pod's Envoy is ready (the proxy's postStart hook)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if timeout <= 0 || timeout > time.Hour {
				return fmt.Errorf("--timeout %s is out of range (above 0, at most 1h)", timeout)
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			return waitReady(ctx, socket)
		},
	}
	cmd.Flags().StringVar(&socket, "admin-socket", proxy.AdminSocket, "Envoy's admin socket")
	cmd.Flags().DurationVar(&timeout, "timeout", time.Minute, "how long to wait before failing (the kubelet then restarts the proxy)")
	return cmd
}

// waitReady asks Envoy's admin /ready through socket until it answers 200,
// or ctx ends; the error then says what Envoy last answered.
func waitReady(ctx context.Context, socket string) error {
	client := adminClient(socket, time.Second)
	last := "no answer yet"
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://admin"+proxy.ReadyPath, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("%s %q", resp.Status, strings.TrimSpace(string(body)))
		} else if ctx.Err() == nil {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("envoy not ready through %s: %w (last answer: %s)", socket, ctx.Err(), last)
		case <-time.After(waitPoll):
		}
	}
}
