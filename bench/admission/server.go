package admission

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// Server is a webhook process under test.
type Server struct {
	Name string
	// URL is where AdmissionReviews go.
	URL string
	// MetricsURL serves Prometheus metrics; empty for the baseline.
	MetricsURL string
	cmd        *exec.Cmd
	done       chan error
}

// StartPlaneless runs webhook.Serve (`webhookd -mode planeless`) with
// cert, logging to dir/planeless.log as it would to kubectl logs.
func StartPlaneless(binary, dir string, cert *Cert) (*Server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	metrics, err := freeAddr()
	if err != nil {
		return nil, err
	}
	s := &Server{Name: "planeless", URL: "https://" + addr + "/inject", MetricsURL: "http://" + metrics + "/metrics"}
	return s, s.start(dir, binary, "-mode", "planeless", "-listen", addr, "-metrics-listen", metrics,
		"-tls-cert-file", cert.CertFile, "-tls-key-file", cert.KeyFile)
}

// StartBaseline runs `webhookd -mode baseline` with cert.
func StartBaseline(binary, dir string, cert *Cert) (*Server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	s := &Server{Name: "baseline", URL: "https://" + addr + "/inject"}
	return s, s.start(dir, binary, "-mode", "baseline", "-listen", addr, "-tls-cert-file", cert.CertFile, "-tls-key-file", cert.KeyFile)
}

func (s *Server) start(dir, binary string, args ...string) error {
	log, err := os.Create(filepath.Join(dir, s.Name+".log"))
	if err != nil {
		return fmt.Errorf("creating %s log: %w", s.Name, err)
	}
	s.cmd = exec.Command(binary, args...)
	s.cmd.Stdout, s.cmd.Stderr = log, log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		log.Close()
		return fmt.Errorf("starting %s: %w", s.Name, err)
	}
	s.done = make(chan error, 1)
	go func() { s.done <- s.cmd.Wait(); log.Close() }()
	return nil
}

// PID is the server's process id.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// WaitReady waits until the server answers a review correctly.
func (s *Server) WaitReady(ctx context.Context, c *Client) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := c.Review(ctx, s)
		if err == nil {
			return nil
		}
		select {
		case e := <-s.done:
			return fmt.Errorf("%s exited: %v", s.Name, e)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready within 30s: %w", s.Name, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Stop ends the server.
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
	}
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}
