package podcmd

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/planeless/planeless/proxy"
)

// Drain is the proxy container's preStop hook: Envoy exits at once on
// SIGTERM, so before the kubelet sends it, this tells Envoy to drain its
// inbound listener (keep-alive clients are told to close, and go to another
// endpoint) and waits, Envoy serving on: the application's own calls during
// its shutdown still go out.
func Drain() *cobra.Command {
	var (
		socket  string
		seconds int
	)
	cmd := &cobra.Command{
		Use:   "drain",
		Short: "Make the pod's Envoy drain its inbound connections, then wait (the proxy's preStop hook)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if seconds < 0 || seconds > 3600 {
				return fmt.Errorf("--seconds %d is out of range (0 to 3600)", seconds)
			}
			deadline := time.Now().Add(time.Duration(seconds) * time.Second)
			err := drain(cmd.Context(), socket)
			if err != nil {
				// Still wait: the application's calls need Envoy as much.
				fmt.Fprintf(cmd.ErrOrStderr(), "planeless drain: %v\n", err)
			}
			time.Sleep(time.Until(deadline))
			return err
		},
	}
	cmd.Flags().StringVar(&socket, "admin-socket", proxy.AdminSocket, "Envoy's admin socket")
	cmd.Flags().IntVar(&seconds, "seconds", 5, "how long to keep Envoy serving after starting the drain")
	return cmd
}

// drain asks Envoy to drain its inbound listeners gracefully: connections
// are told to close after their current request, and the listeners stop
// accepting after Envoy's --drain-time-s.
func drain(ctx context.Context, socket string) error {
	client := adminClient(socket, 5*time.Second)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://admin/drain_listeners?inboundonly&graceful", nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("asking envoy to drain through %s: %w", socket, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("asking envoy to drain through %s: status %s", socket, resp.Status)
	}
	return nil
}

// adminClient talks HTTP to Envoy's admin interface through its Unix
// socket (the proxy has no admin TCP port), each request within timeout.
func adminClient(socket string, timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", socket)
		},
	}}
}
