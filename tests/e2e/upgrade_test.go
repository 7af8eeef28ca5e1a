package e2e_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/planeless/planeless/check"
	"github.com/planeless/planeless/inject"
	"github.com/planeless/planeless/proxy"
	"github.com/planeless/planeless/templates"
)

// An upgrade changes the webhook's defaults (a new Envoy image, another log
// level) and restarts nothing: the running pods keep their injection, check
// flags them with the command that rolls them, and once rolled as
// docs/upgrades.md says, all is well again.
func TestUpgradeFlagsPodsInjectedWithTheOldDefaults(t *testing.T) {
	s := startStack(t)
	ctx := t.Context()
	web := s.deployment(appNS, "web")
	for range 2 {
		s.create(appNS, web.pod())
	}
	s.create(appNS, appPod("solo"))
	report, out, err := s.check("-o", "json", dayOld)
	if err != nil || !report.OK || countState(report, check.Current) != 3 {
		t.Fatalf("check before the upgrade: exit %v, want 0 with 3 current pods:\n%s", err, out)
	}

	// The upgrade: the webhook restarts with new defaults.
	const newImage = "envoyproxy/envoy:v1.41.0"
	s.webhook.stop()
	s.webhook.args = append(s.webhook.args, "--proxy-log-level=debug", "--templates="+proxyTemplate(t, newImage))
	s.webhook.start()
	s.waitInjecting()
	for _, p := range s.pods(appNS) {
		if c := proxyOf(&p); c == nil || c.Image != "envoyproxy/envoy:v"+templates.EnvoyVersion {
			t.Errorf("pod %s changed by the upgrade: %+v", p.Name, c)
		}
	}

	report, out, err = s.check("-o", "json", dayOld)
	if exitCode(err) != 1 {
		t.Fatalf("check after the upgrade exited %v, want 1:\n%s", err, out)
	}
	wantReasons := []string{
		"planeless-proxy image envoyproxy/envoy:v" + templates.EnvoyVersion + ", today " + newImage,
		"planeless-proxy runs with --log-level warning, today debug",
	}
	fixes := map[string]string{
		"deployment/web": "kubectl -n app rollout restart deployment/web",
		"pod/solo":       "kubectl -n app get pod solo -o yaml | planeless uninject -f - | kubectl replace --force -f -",
	}
	for _, p := range report.Pods {
		if p.State != check.Stale || p.Fix != fixes[p.Workload] {
			t.Errorf("pod %s = %+v, want stale with fix %q", p.Name, p, fixes[p.Workload])
		}
		for _, r := range wantReasons {
			if !containsAll(p.Reasons, r) {
				t.Errorf("pod %s: reasons %q lack %q", p.Name, p.Reasons, r)
			}
		}
	}
	table, _, _ := s.runCheck(dayOld)
	if !regexp.MustCompile(`app +deployment/web +2 +stale`).MatchString(table) {
		t.Errorf("the table does not fold the deployment's two pods in one row:\n%s", table)
	}

	// Rolling: the ReplicaSet's pods are recreated (as a rollout restart
	// does); the bare pod goes through check's fix (kubectl get, planeless
	// uninject, kubectl replace --force).
	for _, p := range s.pods(appNS) {
		if p.Name == "solo" {
			continue
		}
		if err := s.client.CoreV1().Pods(appNS).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To(int64(0))}); err != nil {
			t.Fatal(err)
		}
		s.create(appNS, web.pod())
	}
	s.shell(fixes["pod/solo"])
	report, out, err = s.check("-o", "json", dayOld)
	if err != nil || !report.OK || countState(report, check.Current) != 3 {
		t.Fatalf("check after rolling: exit %v, want 0 with 3 current pods:\n%s", err, out)
	}
	for _, p := range s.pods(appNS) {
		if c := proxyOf(&p); c == nil || c.Image != newImage {
			t.Errorf("pod %s after rolling runs %+v, want %s", p.Name, c, newImage)
		}
	}
}

// A pod injected by an earlier planeless (its status carries an older
// version and, as 0.1.0 first wrote it, no list of annotations) keeps
// working with this webhook: it is not injected twice, also when another
// webhook makes the API server call planeless again; check flags it; and
// uninject still removes exactly planeless' parts.
func TestPodsInjectedByAnEarlierPlanelessAreNotInjectedAgain(t *testing.T) {
	s := startStack(t)
	ctx := t.Context()
	s.registerAdder("zz-adds-a-container", serveContainerAdder(t, s.ca))
	eventually(t, "the other webhook to be called", func() bool {
		pod, err := s.client.CoreV1().Pods(appNS).Create(ctx, appPod("probe"), dryRun())
		return err == nil && containerCount(pod, "late") == 1
	})

	old := earlierInjection(t, appNS, appPod("old"))
	skipped := s.webhook.admissions(t, "skipped")
	stored := s.create(appNS, old)
	// Called once on creation, once more after the other webhook added its
	// container: both times it finds the pod injected.
	if got := s.webhook.admissions(t, "skipped") - skipped; got != 2 {
		t.Errorf("planeless skipped the pod %v times, want 2 (creation and reinvocation)", got)
	}
	requireInjected(t, stored)
	if n := containerCount(stored, "late"); n != 1 {
		t.Errorf("the other webhook's container appears %d times, want 1", n)
	}
	if stored.Annotations[proxy.AnnotationStatus] != old.Annotations[proxy.AnnotationStatus] ||
		stored.Annotations[proxy.AnnotationBootstrap] != old.Annotations[proxy.AnnotationBootstrap] {
		t.Error("the webhook rewrote the earlier injection")
	}

	report, out, err := s.check("-o", "json", dayOld)
	if exitCode(err) != 1 || len(report.Pods) != 1 || report.Pods[0].State != check.Stale || report.Pods[0].InjectedBy != "0.0.9" ||
		!containsAll(report.Pods[0].Reasons, "injected by planeless 0.0.9, the webhook runs "+templates.Version) {
		t.Errorf("check: exit %v, pods %+v\n%s", err, report.Pods, out)
	}

	manifest, _, err := s.kubectl(nil, "-n", appNS, "get", "pod", "old", "-o", "yaml")
	if err != nil {
		t.Fatal(err)
	}
	var back corev1.Pod
	s.uninject([]byte(manifest), &back)
	if inject.Injected(&back) || containerCount(&back, "late") != 1 || len(back.Spec.Volumes) != 1 {
		t.Errorf("uninjected pod still has planeless, or lost the other webhook's parts: containers %v, volumes %v", back.Spec.Containers, back.Spec.Volumes)
	}
	for k := range back.Annotations {
		if strings.HasPrefix(k, "prometheus.io/") || strings.HasPrefix(k, proxy.Prefix) {
			t.Errorf("uninject left the annotation %s", k)
		}
	}
}

// earlierInjection injects pod as a planeless 0.0.9 would have: this
// version's parts, its status stamped 0.0.9, without the recorded
// annotations that status did not have.
func earlierInjection(t *testing.T, namespace string, pod *corev1.Pod) *corev1.Pod {
	t.Helper()
	pod = injectedWith(t, inject.New(), namespace, pod)
	status := pod.Annotations[proxy.AnnotationStatus]
	status = strings.Replace(status, `"version":"`+templates.Version+`"`, `"version":"0.0.9"`, 1)
	status = regexp.MustCompile(`,"annotations":\[[^\]]*\]`).ReplaceAllString(status, "")
	if !strings.Contains(status, `"0.0.9"`) || strings.Contains(status, "annotations") {
		t.Fatalf("could not make an earlier status from %s", status)
	}
	pod.Annotations[proxy.AnnotationStatus] = status
	return pod
}

// uninject runs `planeless uninject` on manifest and decodes the result.
func (s *stack) uninject(manifest []byte, out any) {
	s.t.Helper()
	if err := yaml.UnmarshalStrict(s.planeless(manifest, "uninject", "-f", "-"), out); err != nil {
		s.t.Fatalf("decoding planeless uninject's output: %v", err)
	}
}

func (s *stack) planeless(stdin []byte, args ...string) []byte {
	s.t.Helper()
	cmd := exec.CommandContext(s.t.Context(), s.bin, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	out, err := cmd.Output()
	if err != nil {
		s.t.Fatalf("planeless %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func (s *stack) pods(namespace string) []corev1.Pod {
	s.t.Helper()
	list, err := s.client.CoreV1().Pods(namespace).List(s.t.Context(), metav1.ListOptions{})
	if err != nil {
		s.t.Fatal(err)
	}
	return list.Items
}

func proxyOf(pod *corev1.Pod) *corev1.Container {
	for _, list := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range list {
			if list[i].Name == inject.ProxyName {
				return &list[i]
			}
		}
	}
	return nil
}

func countState(r *check.Report, state string) int {
	n := 0
	for _, p := range r.Pods {
		if p.State == state {
			n++
		}
	}
	return n
}

// proxyTemplate writes a templates folder whose proxy uses image.
func proxyTemplate(t *testing.T, image string) string {
	t.Helper()
	var c corev1.Container
	c.Image = image
	c.ImagePullPolicy = corev1.PullIfNotPresent
	def := templates.Default().Proxy
	c.Resources, c.SecurityContext = def.Resources, def.SecurityContext
	b, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, templates.ProxyFile), b, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}
