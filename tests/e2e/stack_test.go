package e2e_test

import (
	"bytes"
	"encoding/base64"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/planeless/planeless/proxy"
	"github.com/planeless/planeless/tests/certs"
	"github.com/planeless/planeless/tests/harness"
	"github.com/planeless/planeless/tests/kube"
	"github.com/planeless/planeless/tests/need"
)

const (
	release   = "planeless"
	releaseNS = "planeless"
	appNS     = "app"   // labelled planeless.dev/inject=enabled
	plainNS   = "plain" // not labelled
)

// patience bounds every wait, so a broken feature fails instead of hanging.
const patience = 2 * time.Minute

// stack is one test's world: a control plane, the planeless webhook served
// by the planeless binary on 127.0.0.1, and the chart installed with helm,
// its MutatingWebhookConfiguration pointed at that webhook.
type stack struct {
	t       *testing.T
	cluster *kube.Cluster
	client  kubernetes.Interface
	bin     string
	ca      *certs.CA
	webhook *webhookProcess
	helmEnv []string
}

// startStack brings the stack up; helmSet adds --set values to the install.
func startStack(t *testing.T, helmSet ...string) *stack {
	t.Helper()
	s := bareStack(t)
	s.webhook = startWebhook(t, s.bin, s.ca)
	s.createNamespace(appNS, map[string]string{proxy.LabelInject: "enabled"})
	s.createNamespace(plainNS, nil)
	args := append([]string{"install", release, chartDir(), "--namespace", releaseNS, "--create-namespace"}, s.webhookValues()...)
	for _, v := range helmSet {
		args = append(args, "--set", v)
	}
	s.helm(args...)
	s.waitInjecting()
	return s
}

// bareStack is a control plane and helm, without webhook or release.
func bareStack(t *testing.T) *stack {
	t.Helper()
	s := &stack{t: t, cluster: kube.Start(t), bin: harness.Planeless(t), ca: certs.NewCA(t)}
	s.client = s.cluster.Client
	home := t.TempDir()
	s.helmEnv = append(os.Environ(),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"),
		"KUBECONFIG="+s.cluster.Kubeconfig,
	)
	return s
}

func chartDir() string { return filepath.Join(need.RepoRoot(), "charts", "planeless") }

// webhookValues point the chart's webhook configuration at the local webhook.
func (s *stack) webhookValues() []string {
	return []string{
		"--set", "tls.mode=files",
		"--set", "webhook.url=https://" + s.webhook.addr,
		"--set", "webhook.caBundle=" + base64.StdEncoding.EncodeToString(s.ca.PEM),
	}
}

// helm runs helm against the stack's cluster and fails the test if it fails.
func (s *stack) helm(args ...string) string {
	s.t.Helper()
	out, err := s.tryHelm(args...)
	if err != nil {
		s.t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (s *stack) tryHelm(args ...string) (string, error) {
	cmd := exec.CommandContext(s.t.Context(), kube.Helm(s.t), args...)
	cmd.Env = s.helmEnv
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// kubectl runs the kubectl built with the control plane.
func (s *stack) kubectl(stdin []byte, args ...string) (stdout, stderr string, err error) {
	cmd := exec.CommandContext(s.t.Context(), kube.Kubectl(s.t), append([]string{"--kubeconfig", s.cluster.Kubeconfig}, args...)...)
	cmd.Stdin = bytes.NewReader(stdin)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

func (s *stack) createNamespace(name string, labels map[string]string) {
	s.t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	if _, err := s.client.CoreV1().Namespaces().Create(s.t.Context(), ns, metav1.CreateOptions{}); err != nil {
		s.t.Fatalf("creating namespace %s: %v", name, err)
	}
}

// label sets a label on an existing namespace (kube-system, the release's).
func (s *stack) label(namespace, key, value string) {
	s.t.Helper()
	ns, err := s.client.CoreV1().Namespaces().Get(s.t.Context(), namespace, metav1.GetOptions{})
	if err != nil {
		s.t.Fatal(err)
	}
	if ns.Labels == nil {
		ns.Labels = map[string]string{}
	}
	ns.Labels[key] = value
	if _, err := s.client.CoreV1().Namespaces().Update(s.t.Context(), ns, metav1.UpdateOptions{}); err != nil {
		s.t.Fatalf("labelling namespace %s: %v", namespace, err)
	}
}

// waitInjecting waits until the API server sends pods of the labelled
// namespace to the webhook: a webhook configuration takes effect once the
// API server's informer has seen it.
func (s *stack) waitInjecting() {
	s.t.Helper()
	eventually(s.t, "the API server to call the webhook", func() bool {
		pod, err := s.client.CoreV1().Pods(appNS).Create(s.t.Context(), appPod("probe"), dryRun())
		return err == nil && injected(pod)
	})
}

// warnings returns a clientset that records the API server's warnings.
func (s *stack) warnings() (kubernetes.Interface, *warningRecorder) {
	s.t.Helper()
	cfg := rest.CopyConfig(s.cluster.Config)
	rec := &warningRecorder{}
	cfg.WarningHandler = rec
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		s.t.Fatal(err)
	}
	return c, rec
}

type warningRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warningRecorder) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, text)
}

func (w *warningRecorder) all() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.msgs...)
}

// webhookProcess is `planeless webhook` serving on 127.0.0.1 with a
// certificate from the test's CA.
type webhookProcess struct {
	t                 *testing.T
	bin, certDir      string
	addr, metricsAddr string
	logPath           string
	cmd               *exec.Cmd
	exited            chan struct{} // closed once cmd has exited
	exitErr           error
	certFile, keyFile string
	args, env         []string // after `webhook`; the process's environment
}

func startWebhook(t *testing.T, bin string, ca *certs.CA) *webhookProcess {
	t.Helper()
	w := newWebhookProcess(t, bin)
	pair := ca.Issue(t, w.certDir, "127.0.0.1")
	w.certFile, w.keyFile = pair.CertFile, pair.KeyFile
	w.args = []string{"--tls-cert-file=" + w.certFile, "--tls-key-file=" + w.keyFile, "--cert-mode=files"}
	w.start()
	return w
}

// newWebhookProcess prepares a webhook on free ports; start runs it.
func newWebhookProcess(t *testing.T, bin string) *webhookProcess {
	t.Helper()
	w := &webhookProcess{
		t: t, bin: bin, certDir: t.TempDir(),
		addr: freeAddr(t), metricsAddr: freeAddr(t),
		logPath: filepath.Join(t.TempDir(), "webhook.log"),
		env:     os.Environ(),
	}
	t.Cleanup(func() {
		w.stop()
		if t.Failed() {
			log, _ := os.ReadFile(w.logPath)
			t.Logf("webhook log:\n%s", log)
		}
	})
	return w
}

func (w *webhookProcess) start() {
	w.t.Helper()
	log, err := os.OpenFile(w.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		w.t.Fatal(err)
	}
	defer log.Close()
	args := append([]string{"webhook", "--listen=" + w.addr, "--metrics-listen=" + w.metricsAddr, "--log-format=text"}, w.args...)
	w.cmd = exec.Command(w.bin, args...)
	w.cmd.Env = w.env
	w.cmd.Stdout, w.cmd.Stderr = log, log
	if err := w.cmd.Start(); err != nil {
		w.t.Fatalf("starting planeless webhook: %v", err)
	}
	exited := make(chan struct{})
	w.exited = exited
	go func(cmd *exec.Cmd) {
		w.exitErr = cmd.Wait()
		close(exited)
	}(w.cmd)
	eventually(w.t, "the webhook to be ready", func() bool {
		select {
		case <-exited:
			w.t.Fatalf("planeless webhook exited: %v", w.exitErr)
		default:
		}
		resp, err := http.Get("http://" + w.metricsAddr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// stop ends the webhook (SIGTERM) and waits for it; no-op when stopped.
func (w *webhookProcess) stop() {
	if w.cmd == nil {
		return
	}
	_ = w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-w.exited:
	case <-time.After(30 * time.Second):
		_ = w.cmd.Process.Kill()
		<-w.exited
	}
	w.cmd = nil
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// eventually polls cond until it holds, failing the test after patience.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		select {
		case <-t.Context().Done():
			t.Fatalf("waiting for %s: %v", what, t.Context().Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func dryRun() metav1.CreateOptions { return metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}} }

// admissions reads planeless_admissions_total{result=...} from the webhook.
func (w *webhookProcess) admissions(t *testing.T, result string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + w.metricsAddr + "/metrics")
	if err != nil {
		t.Fatalf("scraping the webhook: %v", err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parsing the webhook's metrics: %v", err)
	}
	for _, m := range families["planeless_admissions_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "result" && l.GetValue() == result {
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("the webhook exports no planeless_admissions_total{result=%q}", result)
	return 0
}
