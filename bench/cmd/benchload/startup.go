package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Startup is what `benchload startup` prints.
type Startup struct {
	// ReadyMS is the time from starting the command to the first 200 from
	// the URL.
	ReadyMS float64 `json:"ready_ms"`
}

// startup runs the command after "--", polls -url every millisecond until
// it answers 200, prints the elapsed time and kills the command.
func startup(args []string) error {
	fs := flag.NewFlagSet("startup", flag.ExitOnError)
	url := fs.String("url", "", "URL that answers 200 once the command is ready")
	timeout := fs.Duration("timeout", 30*time.Second, "give up after this long")
	_ = fs.Parse(args)
	argv := fs.Args()
	if len(argv) == 0 {
		return fmt.Errorf("startup: no command after --")
	}
	client := &http.Client{Timeout: time.Second}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", argv[0], err)
	}
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	}()
	for time.Since(start) < *timeout {
		if resp, err := client.Get(*url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return json.NewEncoder(os.Stdout).Encode(Startup{ReadyMS: float64(time.Since(start)) / float64(time.Millisecond)})
			}
		}
		time.Sleep(time.Millisecond)
	}
	return fmt.Errorf("%s not ready on %s within %s", argv[0], *url, *timeout)
}
