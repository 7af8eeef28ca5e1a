package inject

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"

	"github.com/planeless/planeless/tests/golden"
)

// cniInjector is the injector of a webhook started with --cni.
func cniInjector() *Injector {
	i := New()
	i.Defaults.CNI = true
	return i
}

func injectFileWith(t *testing.T, i *Injector, path string) (out []byte, warnings []string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var buf bytes.Buffer
	if err := i.Manifests(f, &buf, "", func(w string) { warnings = append(warnings, w) }); err != nil {
		t.Fatalf("injecting %s: %v", path, err)
	}
	return buf.Bytes(), warnings
}

// In CNI mode every golden input is injected with the unprivileged check
// in the iptables init container's place: testdata/cni holds the results.
func TestGoldenInjectionInCNIMode(t *testing.T) {
	for name, path := range inputs(t) {
		t.Run(name, func(t *testing.T) {
			out, warnings := injectFileWith(t, cniInjector(), path)
			golden.Assert(t, filepath.Join("testdata", "cni", name+".injected.yaml"), out)
			golden.Assert(t, filepath.Join("testdata", "cni", name+".warnings.txt"), []byte(strings.Join(warnings, "\n")+"\n"))
		})
	}
}

func TestInjectingTwiceInCNIModeChangesNothing(t *testing.T) {
	for name := range inputs(t) {
		t.Run(name, func(t *testing.T) {
			once := filepath.Join("testdata", "cni", name+".injected.yaml")
			want, err := os.ReadFile(once)
			if err != nil {
				t.Fatal(err)
			}
			if twice, _ := injectFileWith(t, cniInjector(), once); !bytes.Equal(want, twice) {
				t.Errorf("injecting %s again changed it", once)
			}
		})
	}
}

// `planeless inject --cni | planeless uninject` gives back every input
// byte for byte, as in init mode.
func TestUninjectGivesBackWhatCNIModeInjectionWasGiven(t *testing.T) {
	for name, path := range inputs(t) {
		t.Run(name, func(t *testing.T) {
			in, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			injected, _ := injectFileWith(t, cniInjector(), path)
			out, n := uninjectBytes(t, injected)
			if n == 0 {
				t.Fatal("uninject found nothing injected")
			}
			assertRoundTrip(t, name, in, out)
		})
	}
}

// What planeless adds in CNI mode passes Pod Security's restricted profile,
// as the API server's own evaluator judges it: the pod reduced to
// planeless' containers and volumes, without the pod-wide security context
// (each container must pass on its own), for every golden input. In init
// mode the same check fails on planeless-init, which proves it looks.
func TestCNIModeAddsNothingPodSecurityRestrictedRefuses(t *testing.T) {
	evaluator, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		t.Fatal(err)
	}
	restrictedLatest := api.LevelVersion{Level: api.LevelRestricted, Version: api.LatestVersion()}
	judge := func(t *testing.T, pod *corev1.Pod) []string {
		t.Helper()
		var refused []string
		for _, r := range evaluator.EvaluatePod(restrictedLatest, &pod.ObjectMeta, &pod.Spec) {
			if !r.Allowed {
				refused = append(refused, r.ForbiddenReason+": "+r.ForbiddenDetail)
			}
		}
		return refused
	}
	for name, path := range inputs(t) {
		t.Run(name, func(t *testing.T) {
			cni, _ := injectFileWith(t, cniInjector(), path)
			initMode, _ := injectFile(t, path)
			for _, pod := range injectedPods(t, cni) {
				if !Injected(pod) {
					continue
				}
				if refused := judge(t, addedPart(t, pod)); len(refused) > 0 {
					t.Errorf("pod %s%s: restricted refuses what CNI mode added:\n%s", pod.Name, pod.GenerateName, strings.Join(refused, "\n"))
				}
				if find(pod.Spec.InitContainers, InitName) != nil {
					t.Errorf("pod %s%s carries %s in CNI mode", pod.Name, pod.GenerateName, InitName)
				}
			}
			for _, pod := range injectedPods(t, initMode) {
				if !Injected(pod) {
					continue
				}
				if refused := judge(t, addedPart(t, pod)); len(refused) == 0 {
					t.Errorf("pod %s%s: restricted admits init mode's %s: the check sees nothing", pod.Name, pod.GenerateName, InitName)
				}
			}
		})
	}
}

// addedPart is pod reduced to what the injector added to it.
func addedPart(t *testing.T, pod *corev1.Pod) *corev1.Pod {
	t.Helper()
	status, ok, err := ReadStatus(pod)
	if err != nil || !ok {
		t.Fatalf("pod %s%s has no readable status: %v", pod.Name, pod.GenerateName, err)
	}
	out := pod.DeepCopy()
	out.Spec.SecurityContext = nil
	keep := func(names []string) func(corev1.Container) bool {
		return func(c corev1.Container) bool { return !slices.Contains(names, c.Name) }
	}
	out.Spec.InitContainers = slices.DeleteFunc(out.Spec.InitContainers, keep(status.InitContainers))
	out.Spec.Containers = slices.DeleteFunc(out.Spec.Containers, keep(status.Containers))
	out.Spec.Volumes = slices.DeleteFunc(out.Spec.Volumes, func(v corev1.Volume) bool { return !slices.Contains(status.Volumes, v.Name) })
	out.Spec.HostNetwork, out.Spec.HostPID, out.Spec.HostIPC = false, false, false
	if len(status.InitContainers)+len(status.Containers) != len(out.Spec.InitContainers)+len(out.Spec.Containers) {
		t.Fatalf("pod %s%s lacks containers its status lists", pod.Name, pod.GenerateName)
	}
	return out
}

// The check runs as a user the rules redirect when it checks the outbound
// redirection, and as the proxy when only the inbound one can be seen.
func TestTheValidateContainerRunsAsTheUserWhoseTrafficItChecks(t *testing.T) {
	tests := map[string]struct {
		annotations     map[string]string
		uid             int64
		wantSameAsEnvoy bool
	}{
		"egress captured: nobody, whose connections are redirected": {uid: ValidateUID},
		"egress captured and Envoy runs as nobody: another user":    {annotations: map[string]string{}, uid: ValidateUID - 1},
		"egress off: the proxy's user, whose self-calls go to the inbound listener": {
			annotations: map[string]string{"planeless.dev/egress": "false"}, wantSameAsEnvoy: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			i := cniInjector()
			if tc.uid == ValidateUID-1 {
				i.Defaults.ProxyUID = ValidateUID
			}
			pod := withAnnotations(tc.annotations)
			if _, err := i.Inject(pod); err != nil {
				t.Fatal(err)
			}
			v, p := find(pod.Spec.InitContainers, ValidateName), find(pod.Spec.InitContainers, ProxyName)
			if v == nil || p == nil {
				t.Fatalf("no %s or %s: %v", ValidateName, ProxyName, names(pod.Spec.InitContainers))
			}
			got := *v.SecurityContext.RunAsUser
			if tc.wantSameAsEnvoy {
				if got != *p.SecurityContext.RunAsUser {
					t.Errorf("%s runs as %d, Envoy as %d", ValidateName, got, *p.SecurityContext.RunAsUser)
				}
				return
			}
			if got != tc.uid || got == *p.SecurityContext.RunAsUser || *v.SecurityContext.RunAsGroup == *p.SecurityContext.RunAsGroup {
				t.Errorf("%s runs as %d:%d, want %d and not Envoy's %d:%d", ValidateName, got, *v.SecurityContext.RunAsGroup, tc.uid, *p.SecurityContext.RunAsUser, *p.SecurityContext.RunAsGroup)
			}
		})
	}
}
