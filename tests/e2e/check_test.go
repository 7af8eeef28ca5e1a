package e2e_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/planeless/planeless/check"
	"github.com/planeless/planeless/inject"
	"github.com/planeless/planeless/proxy"
	"github.com/planeless/planeless/tests/kube"
)

// A mix of pods, each reported right by `planeless check` run against the
// real API server and webhook: fresh, stale, escaped before the label,
// opted out, on the host network, injected outside the webhook; the exit
// status says something needs doing until it is done.
func TestCheckReportsEachPodRight(t *testing.T) {
	s := startStack(t)
	ctx := t.Context()

	fresh := appPod("fresh")
	s.create(appNS, fresh)

	// A Deployment's pods injected with other defaults than the webhook's
	// (as by an older webhook): the webhook leaves injected pods alone.
	web := s.deployment(appNS, "web")
	old := inject.New()
	old.Defaults.LogLevel = "debug"
	for range 2 {
		s.create(appNS, injectedWith(t, old, appNS, web.pod()))
	}

	optedOut := appPod("opted-out")
	optedOut.Labels[proxy.LabelInject] = "false"
	s.create(appNS, optedOut)
	hostNet := appPod("host-net")
	hostNet.Spec.HostNetwork = true
	s.create(appNS, hostNet)

	// A pod created before its namespace was labelled.
	s.createNamespace("late", nil)
	early := s.create("late", appPod("early"))
	nextSecond(early.CreationTimestamp.Time)
	s.label("late", proxy.LabelInject, "enabled")

	// Injected with planeless inject in a namespace the webhook leaves alone.
	s.create(plainNS, injectedWith(t, inject.New(), plainNS, appPod("by-hand")))

	report, out, err := s.check("-o", "json", dayOld)
	if exitCode(err) != 1 {
		t.Fatalf("check exited %v, want 1 (stale and escaped pods):\n%s", err, out)
	}
	wh := report.Webhook
	if wh.Reachable != check.Yes || wh.Version == "" || wh.FailurePolicy != "Fail" || !strings.HasPrefix(wh.Endpoint, "https://"+s.webhook.addr) {
		t.Errorf("webhook = %+v, want reachable over %s with a version", wh, s.webhook.addr)
	}
	if c := wh.Certificate; c == nil || c.Source != "served at "+s.webhook.addr || c.ValidSeconds < 3600 || len(c.Problems) != 0 {
		t.Errorf("certificate = %+v, want the one served at %s, valid for hours, without problems", c, s.webhook.addr)
	}

	want := map[string]struct {
		state, workload, reason, fix string
	}{
		"app/fresh":     {check.Current, "pod/fresh", "", ""},
		"app/opted-out": {check.Skipped, "pod/opted-out", `opted out with planeless.dev/inject: "false"`, ""},
		"app/host-net":  {check.Skipped, "pod/host-net", "uses the host network", ""},
		"late/early": {check.Escaped, "pod/early", "created before the namespace was labelled",
			"kubectl -n late get pod early -o yaml | planeless uninject -f - | kubectl replace --force -f -"},
		"plain/by-hand": {check.Outside, "pod/by-hand", "the webhook does not select its namespace", ""},
	}
	stale := 0
	for _, p := range report.Pods {
		key := p.Namespace + "/" + p.Name
		if p.Workload == "deployment/web" {
			stale++
			if p.State != check.Stale || !containsAll(p.Reasons, "planeless-proxy runs with --log-level debug, today warning") || p.Fix != "kubectl -n app rollout restart deployment/web" {
				t.Errorf("%s = %+v, want stale (proxy args) with a rollout restart", key, p)
			}
			continue
		}
		w, ok := want[key]
		if !ok {
			t.Errorf("unexpected pod in the report: %+v", p)
			continue
		}
		delete(want, key)
		if p.State != w.state || p.Workload != w.workload || p.Fix != w.fix || (w.reason != "" && !containsAll(p.Reasons, w.reason)) {
			t.Errorf("%s = %+v, want state %s, workload %s, reason %q, fix %q", key, p, w.state, w.workload, w.reason, w.fix)
		}
	}
	if stale != 2 {
		t.Errorf("%d pods of deployment/web reported, want 2", stale)
	}
	for key := range want {
		t.Errorf("pod %s is missing from the report", key)
	}
	if len(report.Problems) != 2 || !strings.Contains(report.Problems[0], "2 pods of 1 workload run an injection that differs") ||
		!strings.Contains(report.Problems[1], "1 pod of labelled namespaces escaped injection") {
		t.Errorf("problems = %q", report.Problems)
	}

	table, _, err := s.runCheck(dayOld)
	if exitCode(err) != 1 {
		t.Errorf("check (table) exited %v, want 1", err)
	}
	for _, line := range []string{
		"reachable yes: a dry-run pod in ",
		"NAMESPACES  app (5 pods), late (1 pod)",
		"app        deployment/web  2     stale",
		"kubectl -n app rollout restart deployment/web",
		"2 problems:",
	} {
		if !strings.Contains(table, line) {
			t.Errorf("the table lacks %q:\n%s", line, table)
		}
	}

	// As a kubectl plugin, the fix it prints uses the plugin.
	plugin, _ := s.kubectlPlanelessCheck("-n", "late", dayOld)
	if !strings.Contains(plugin, "kubectl -n late get pod early -o yaml | kubectl planeless uninject -f - | kubectl replace --force -f -") {
		t.Errorf("kubectl planeless check does not print its own name in the fix:\n%s", plugin)
	}

	// Doing what check says: its FIX commands, run as printed with kubectl
	// and planeless on PATH. Without a controller manager a rollout restart
	// only stamps the Deployment's template; its pods are recreated here as
	// the new ReplicaSet would create them.
	fixes := map[string]bool{}
	for _, p := range report.Pods {
		if p.Fix != "" {
			fixes[p.Fix] = true
		}
	}
	for fix := range fixes {
		s.shell(fix)
	}
	restarted, err := s.client.AppsV1().Deployments(appNS).Get(ctx, "web", metav1.GetOptions{})
	if err != nil || restarted.Spec.Template.Annotations["kubectl.kubernetes.io/restartedAt"] == "" {
		t.Fatalf("the rollout restart did not stamp deployment/web: %v", err)
	}
	for _, p := range report.Pods {
		if p.Workload == "deployment/web" {
			if err := s.client.CoreV1().Pods(appNS).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To(int64(0))}); err != nil {
				t.Fatal(err)
			}
			s.create(appNS, web.pod())
		}
	}
	report, out, err = s.check("-o", "json", dayOld)
	if err != nil || !report.OK {
		t.Fatalf("check after the restarts: exit %v, want 0:\n%s", err, out)
	}
	table, _, err = s.runCheck(dayOld)
	if err != nil || !strings.HasSuffix(table, "All is well.\n") {
		t.Errorf("check (table) after the restarts: %v\n%s", err, table)
	}

	// The same as a kubectl plugin.
	plugin, err = s.kubectlPlanelessCheck("-n", "late", dayOld)
	if err != nil || !strings.Contains(plugin, "late       pod/early  1     current") {
		t.Errorf("kubectl planeless check -n late: %v\n%s", err, plugin)
	}
}

// kubectlPlanelessCheck runs `kubectl planeless check`, with the binary on
// PATH as kubectl-planeless.
func (s *stack) kubectlPlanelessCheck(args ...string) (string, error) {
	s.t.Helper()
	dir := s.t.TempDir()
	if err := os.Symlink(s.bin, filepath.Join(dir, "kubectl-planeless")); err != nil {
		s.t.Fatal(err)
	}
	cmd := exec.CommandContext(s.t.Context(), kube.Kubectl(s.t), append([]string{"planeless", "check"}, args...)...)
	cmd.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"), "KUBECONFIG="+s.cluster.Kubeconfig)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// With the webhook down, check says so and fails: refused pods with
// failurePolicy Fail; with Ignore, the pods admitted meanwhile are escaped,
// and stay so once the webhook is back.
func TestCheckWhenTheWebhookIsDown(t *testing.T) {
	s := startStack(t)
	s.webhook.stop()

	report, out, err := s.check("-o", "json", dayOld)
	if exitCode(err) != 1 || report.Webhook.Reachable != check.No || !strings.Contains(report.Webhook.Detail, "failed calling webhook") {
		t.Errorf("check with the webhook down: exit %v, webhook %+v\n%s", err, report.Webhook, out)
	}
	if report.Webhook.Certificate != nil || !containsAll(report.Warnings, "could not read the webhook's certificate") {
		t.Errorf("warnings = %q, want one about the certificate", report.Warnings)
	}

	s.helm("upgrade", release, chartDir(), "--namespace", releaseNS, "--reuse-values", "--set", "webhook.failurePolicy=Ignore")
	var admitted *corev1.Pod
	eventually(t, "failurePolicy Ignore to be in force", func() bool {
		pod := appPod("")
		pod.GenerateName = "meanwhile-"
		p, err := s.client.CoreV1().Pods(appNS).Create(t.Context(), pod, metav1.CreateOptions{})
		admitted = p
		return err == nil
	})
	report, out, err = s.check("-o", "json", dayOld)
	if exitCode(err) != 1 || report.Webhook.Reachable != check.No || !strings.Contains(report.Webhook.Detail, "admitted uninjected") {
		t.Errorf("check with the webhook down and Ignore: exit %v, webhook %+v\n%s", err, report.Webhook, out)
	}
	s.webhook.start()
	s.waitInjecting()
	report, out, err = s.check("-o", "json", dayOld)
	if exitCode(err) != 1 || report.Webhook.Reachable != check.Yes {
		t.Fatalf("check with the webhook back: exit %v\n%s", err, out)
	}
	if len(report.Pods) != 1 || report.Pods[0].Name != admitted.Name || report.Pods[0].State != check.Escaped ||
		!containsAll(report.Pods[0].Reasons, "created while the webhook did not answer (failurePolicy Ignore") {
		t.Errorf("pods = %+v, want %s escaped while the webhook was down", report.Pods, admitted.Name)
	}
}

// A webhook behind a Service (as the chart installs it on a cluster): check
// reads its certificate from the Secret its pods serve, judges it against
// the caBundle and the Service's name, and finds that nothing answers.
func TestCheckReadsTheCertificateOfAWebhookBehindAService(t *testing.T) {
	s := bareStack(t)
	s.createNamespace(appNS, map[string]string{proxy.LabelInject: "enabled"})
	s.createNamespace(releaseNS, nil)
	service := release + "." + releaseNS + ".svc"
	pair := s.ca.Issue(t, t.TempDir(), service)
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: release + "-tls", Namespace: releaseNS},
		Type:       corev1.SecretTypeTLS,
		Data:       map[string][]byte{"tls.crt": readFile(t, pair.CertFile), "tls.key": readFile(t, pair.KeyFile)},
	}
	if _, err := s.client.CoreV1().Secrets(releaseNS).Create(t.Context(), secret, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	s.helm("install", release, chartDir(), "--namespace", releaseNS,
		"--set", "tls.mode=files", "--set", "webhook.caBundle="+base64PEM(s.ca.PEM))

	report, out, err := s.check("-o", "json")
	if exitCode(err) != 1 {
		t.Fatalf("check exited %v, want 1:\n%s", err, out)
	}
	c := report.Webhook.Certificate
	if c == nil || c.Source != "Secret planeless/planeless-tls, key tls.crt" || report.Webhook.Endpoint != "https://"+service+":443/inject" {
		t.Fatalf("webhook = %+v, certificate %+v", report.Webhook, c)
	}
	// The test CA issues for a day: nothing renews it, which is a problem.
	if len(c.Problems) != 1 || !strings.Contains(c.Problems[0], "has not been renewed") {
		t.Errorf("certificate problems = %q, want one about renewal", c.Problems)
	}
	if report.Webhook.Reachable != check.No {
		t.Errorf("reachable = %s, want no: no pod serves the webhook", report.Webhook.Reachable)
	}
	// The same certificate with a margin below its life is fine.
	report, _, _ = s.check("-o", "json", "--cert-expiry-margin=1h")
	if c := report.Webhook.Certificate; c == nil || len(c.Problems) != 0 {
		t.Errorf("certificate with a 1h margin = %+v, want no problem", c)
	}
}

// check runs `planeless check` against the stack and decodes its JSON.
func (s *stack) check(args ...string) (*check.Report, string, error) {
	s.t.Helper()
	stdout, stderr, err := s.runCheck(args...)
	var r check.Report
	if jsonErr := json.Unmarshal([]byte(stdout), &r); jsonErr != nil {
		s.t.Fatalf("decoding check's JSON: %v\nstdout:\n%s\nstderr:\n%s", jsonErr, stdout, stderr)
	}
	return &r, stdout + stderr, err
}

// dayOld lets the test CA's certificates, issued for a day, pass as
// renewed in time.
const dayOld = "--cert-expiry-margin=1h"

func (s *stack) runCheck(args ...string) (stdout, stderr string, err error) {
	cmd := exec.CommandContext(s.t.Context(), s.bin, append([]string{"check", "--kubeconfig", s.cluster.Kubeconfig}, args...)...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

// shell runs a command line as a user would, with the stack's kubectl
// and planeless first on PATH.
func (s *stack) shell(line string) {
	s.t.Helper()
	cmd := exec.CommandContext(s.t.Context(), "bash", "-o", "pipefail", "-c", line)
	cmd.Env = append(os.Environ(),
		"PATH="+filepath.Dir(kube.Kubectl(s.t))+":"+filepath.Dir(s.bin)+":"+os.Getenv("PATH"),
		"KUBECONFIG="+s.cluster.Kubeconfig)
	if out, err := cmd.CombinedOutput(); err != nil {
		s.t.Fatalf("%s: %v\n%s", line, err, out)
	}
}

func exitCode(err error) int {
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		return exit.ExitCode()
	}
	return -1
}

func containsAll(list []string, part string) bool {
	for _, s := range list {
		if strings.Contains(s, part) {
			return true
		}
	}
	return false
}

// create stores a pod in namespace and returns it as stored.
func (s *stack) create(namespace string, pod *corev1.Pod) *corev1.Pod {
	s.t.Helper()
	pod = pod.DeepCopy()
	pod.Namespace = namespace
	stored, err := s.client.CoreV1().Pods(namespace).Create(s.t.Context(), pod, metav1.CreateOptions{})
	if err != nil {
		s.t.Fatalf("creating pod %s%s in %s: %v", pod.Name, pod.GenerateName, namespace, err)
	}
	return stored
}

// workload is a Deployment with its ReplicaSet, without controllers: pod
// returns a pod as the ReplicaSet would create it.
type workload struct {
	deployment *appsv1.Deployment
	replicaSet *appsv1.ReplicaSet
}

const templateHash = "5d4f8b9c7"

func (s *stack) deployment(namespace, name string) *workload {
	s.t.Helper()
	ctx := s.t.Context()
	labels := map[string]string{"app": name}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: appPod("").Spec},
		},
	}
	d, err := s.client.AppsV1().Deployments(namespace).Create(ctx, d, metav1.CreateOptions{})
	if err != nil {
		s.t.Fatal(err)
	}
	rsLabels := map[string]string{"app": name, "pod-template-hash": templateHash}
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{
			Name: name + "-" + templateHash, Namespace: namespace, Labels: rsLabels,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: name, UID: d.UID, Controller: ptr.To(true)}},
		},
		Spec: appsv1.ReplicaSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: rsLabels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: rsLabels}, Spec: appPod("").Spec},
		},
	}
	if rs, err = s.client.AppsV1().ReplicaSets(namespace).Create(ctx, rs, metav1.CreateOptions{}); err != nil {
		s.t.Fatal(err)
	}
	return &workload{deployment: d, replicaSet: rs}
}

func (w *workload) pod() *corev1.Pod {
	rs := w.replicaSet
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: rs.Name + "-",
			Labels:       rs.Spec.Template.Labels,
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: ptr.To(true),
			}},
		},
		Spec: *rs.Spec.Template.Spec.DeepCopy(),
	}
}

// injectedWith injects pod for namespace with i, as `planeless inject -n
// namespace` with i's defaults would.
func injectedWith(t *testing.T, i *inject.Injector, namespace string, pod *corev1.Pod) *corev1.Pod {
	t.Helper()
	pod = pod.DeepCopy()
	pod.Namespace = namespace
	if _, err := i.Inject(pod); err != nil {
		t.Fatal(err)
	}
	return pod
}

// nextSecond waits until the clock is past the second of t: the API server
// records times to the second, and check compares them.
func nextSecond(t time.Time) {
	time.Sleep(time.Until(t.Truncate(time.Second).Add(time.Second + 10*time.Millisecond)))
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func base64PEM(pem []byte) string { return base64.StdEncoding.EncodeToString(pem) }
