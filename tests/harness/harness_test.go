package harness

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	_ "github.com/planeless/planeless/tests/golden"
)

func TestLeftoversOfAKilledRunAreSwept(t *testing.T) {
	requireRoot(t)
	// A run killed with SIGKILL leaves a lease naming a dead process, its
	// bridge, a namespace with a process still in it, and /etc/netns.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	octet := 0
	for o := 254; o > 200; o-- {
		if _, owned := ownerOf(o); !owned && !linkExists(fmt.Sprintf("plh%d", o)) {
			octet = o
			break
		}
	}
	if octet == 0 {
		t.Fatal("no free octet to play the killed run")
	}
	prefix := fmt.Sprintf("plh%d", octet)
	ns := prefix + "-ghost"
	ctx := t.Context()
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(leaseFile(octet), []byte(strconv.Itoa(dead.Process.Pid)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"link", "add", prefix, "type", "bridge"}, {"netns", "add", ns}} {
		if err := ip(ctx, args...); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join("/etc/netns", ns), 0o755); err != nil {
		t.Fatal(err)
	}
	leftDir := filepath.Join(os.TempDir(), prefix+"-123456")
	if err := os.MkdirAll(filepath.Join(leftDir, "ghost"), 0o755); err != nil {
		t.Fatal(err)
	}
	sleeper := exec.Command("ip", "netns", "exec", ns, "sleep", "600")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- sleeper.Wait() }()

	New(t)

	if linkExists(prefix) {
		t.Errorf("bridge %s is still there", prefix)
	}
	if _, err := os.Stat(filepath.Join("/run/netns", ns)); err == nil {
		t.Errorf("namespace %s is still there", ns)
	}
	if _, err := os.Stat(filepath.Join("/etc/netns", ns)); err == nil {
		t.Errorf("/etc/netns/%s is still there", ns)
	}
	if _, err := os.Stat(leftDir); err == nil {
		t.Errorf("the dead run's folder %s is still there", leftDir)
	}
	if owner, owned := ownerOf(octet); owned && owner == dead.Process.Pid {
		t.Errorf("the dead run's lease is still there")
	}
	select {
	case <-exited:
	case <-t.Context().Done():
	}
	if sleeper.ProcessState == nil {
		t.Errorf("the process left in %s still runs", ns)
	}
}

func TestAPodRunsLikeTheKubeletWouldRunIt(t *testing.T) {
	var ns []string
	t.Run("while the test runs", func(t *testing.T) {
		h := New(t)
		pod := Inject(t, filepath.Join("testdata", "pod.yaml"))[0]
		web := h.Start(t, pod, PodOptions{Apps: map[string][]string{"web": {"rest", "-listen", ":8080", "-name", "web"}}, Aliases: []string{"web-svc"}})
		other := h.Plain(t, "other", PodOptions{})
		ns = []string{web.NS, other.NS}

		if got := procUID(t, web.EnvoyPID()); got != web.ProxyUID || got != 1337 {
			t.Errorf("envoy runs as UID %d, want the proxy UID 1337", got)
		}
		if web.AppUID != 2000 {
			t.Errorf("app UID %d, want the container's runAsUser 2000", web.AppUID)
		}
		if out, err := web.Exec(t.Context(), web.AppUID, "id", "-u"); err != nil || strings.TrimSpace(out) != "2000" {
			t.Errorf("Exec as the app UID: %q, %v", out, err)
		}
		b, err := os.ReadFile(filepath.Join(web.dir, "bootstrap.json"))
		if err != nil || string(b) != pod.Annotations[BootstrapAnnotation] {
			t.Errorf("envoy's bootstrap file is not exactly the pod's annotation (%v)", err)
		}
		for _, url := range []string{"http://web:8080/", "http://web-svc:8080/"} {
			if r := other.Get(t, url); r.Status != 200 {
				t.Errorf("GET %s from another pod: %d %s", url, r.Status, r.Error)
			}
		}
		if n := len(web.Stats(t).Select("envoy_server_live", nil)); n != 1 {
			t.Errorf("the stats scrape has %d envoy_server_live samples, want 1", n)
		}
	})
	t.Run("after the test", func(t *testing.T) {
		for _, n := range ns {
			if _, err := os.Stat(filepath.Join("/run/netns", n)); err == nil {
				t.Errorf("namespace %s is still there", n)
			}
			if _, err := os.Stat(filepath.Join("/etc/netns", n)); err == nil {
				t.Errorf("/etc/netns/%s is still there", n)
			}
		}
	})
}

func procUID(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("reading the status of process %d: %v", pid, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "Uid:" {
			uid, _ := strconv.ParseInt(f[1], 10, 64)
			return uid
		}
	}
	t.Fatalf("no Uid in /proc/%d/status", pid)
	return 0
}

func TestParseMetrics(t *testing.T) {
	tests := map[string]struct {
		in   string
		want Sample
	}{
		"a sample without labels": {in: "envoy_server_live 1", want: Sample{Name: "envoy_server_live", Labels: map[string]string{}, Value: 1}},
		"labels with an escaped quote and a pipe": {
			in:   `envoy_cluster_upstream_rq_total{envoy_cluster_name="inbound|8080|http",note="a \"b\""} 12`,
			want: Sample{Name: "envoy_cluster_upstream_rq_total", Labels: map[string]string{"envoy_cluster_name": "inbound|8080|http", "note": `a "b"`}, Value: 12},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseMetrics("# TYPE x counter\n" + tc.in + "\n")
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].Name != tc.want.Name || got[0].Value != tc.want.Value || fmt.Sprint(got[0].Labels) != fmt.Sprint(tc.want.Labels) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestAProxyInRegularContainersRunsToo(t *testing.T) {
	h := New(t)
	pod := Inject(t, filepath.Join("testdata", "pod-regular-sidecar.yaml"))[0]
	if findContainer(pod.Spec.Containers, ProxyContainerName) == nil {
		t.Fatalf("planeless inject did not put %s in spec.containers", ProxyContainerName)
	}
	legacy := h.Start(t, pod, PodOptions{Apps: map[string][]string{"web": {"rest", "-listen", ":8080", "-name", "legacy"}}})
	other := h.Plain(t, "other", PodOptions{})
	if r := other.Get(t, "http://legacy:8080/"); r.Status != 200 {
		t.Errorf("GET from another pod: %d %s", r.Status, r.Error)
	}
	if got := procUID(t, legacy.EnvoyPID()); got != 1337 {
		t.Errorf("envoy runs as UID %d, want 1337", got)
	}
	if legacy.AppUID != DefaultAppUID {
		t.Errorf("app UID %d, want the default %d", legacy.AppUID, DefaultAppUID)
	}
}
