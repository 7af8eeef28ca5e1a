package tap

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/planeless/planeless/tests/harness"
	"github.com/planeless/planeless/tests/kube"
)

// kubectlPlanelessTap runs `kubectl planeless tap args...` with the real
// kubectl, bin/planeless on PATH as kubectl-planeless, and returns its
// output so far through the returned function.
func kubectlPlanelessTap(t *testing.T, args ...string) (output func() string, stop func()) {
	t.Helper()
	dir := t.TempDir()
	if err := os.Symlink(harness.Planeless(t), filepath.Join(dir, "kubectl-planeless")); err != nil {
		t.Fatal(err)
	}
	out := &syncBuffer{}
	cmd := exec.Command(kube.Kubectl(t), append([]string{"planeless", "tap"}, args...)...)
	cmd.Env = append(os.Environ(), "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	stop = func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	}
	t.Cleanup(stop)
	return out.String, stop
}

// testKubectlPlugin: `kubectl planeless tap` finds the binary on PATH and
// prints the table; plain text when stdout is not a terminal.
func testKubectlPlugin(t *testing.T, c *cluster, client *harness.Pod, server *harness.Pod) {
	t.Helper()
	before := c.kubelet.streamsOf(namespace, server.Name)
	output, stop := kubectlPlanelessTap(t, "pod/"+server.Name, "-n", namespace, "--kubeconfig", c.kube.Kubeconfig, "--pair-wait", "0")
	waitUntil(t, "kubectl planeless tap following the server", func() bool {
		return c.kubelet.streamsOf(namespace, server.Name) > before
	})
	client.Get(t, "http://server.shop:8080/tap/plugin")
	waitUntil(t, "kubectl planeless tap printing the request", func() bool { return strings.Contains(output(), "/tap/plugin") })
	stop()

	got := output()
	t.Logf("kubectl planeless tap printed:\n%s", got)
	lines := strings.Split(got, "\n")
	if !strings.HasPrefix(lines[0], "TIME ") {
		t.Errorf("the first line is not the header:\n%s", got)
	}
	var line string
	for _, l := range lines {
		if strings.Contains(l, "/tap/plugin") {
			line = l
		}
	}
	for _, want := range []string{server.Name, "GET", "200", "server.shop:8080"} {
		if !strings.Contains(line, want) {
			t.Errorf("the request's line %q lacks %q", line, want)
		}
	}
	if strings.Contains(got, "\x1b[") {
		t.Errorf("colours on a pipe:\n%q", got)
	}

	help, _ := kubectlPlanelessTap(t, "--help")
	waitUntil(t, "kubectl planeless tap --help", func() bool { return strings.Contains(help(), "Flags:") })
	if !strings.Contains(help(), "kubectl planeless tap (ns/NAME | deploy/NAME | pod/NAME)") {
		t.Errorf("the plugin's usage does not say kubectl planeless tap:\n%s", help())
	}
}
