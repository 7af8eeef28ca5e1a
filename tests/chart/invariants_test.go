package chart_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/planeless/planeless/templates"
	_ "github.com/planeless/planeless/tests/golden"
)

// nonDefault changes every value a platform team is likely to set.
const nonDefault = `
image: {repository: registry.example/planeless, tag: v9.9.9}
webhook:
  failurePolicy: Ignore
  timeoutSeconds: 3
  excludeNamespaces: [monitoring]
tls: {mode: certManager}
proxy:
  image: registry.example/envoy:v1.40.0-custom
  uid: 2000
  gid: 3000
  nativeSidecar: false
  logLevel: debug
  egress: false
  ipv6: false
  ports: {inbound: 16006, outbound: 16001, stats: 16090}
  accessLog: text
tracing: {provider: zipkin, endpoint: "zipkin.tracing:9411", samplingPercent: 12.5}
init:
  image: registry.example/planeless-init:v1
metrics:
  podMonitor: {enabled: true}
  serviceMonitor: {enabled: true}
`

func TestLintIsClean(t *testing.T) {
	tests := map[string]string{
		"default values":     "",
		"non-default values": nonDefault,
		"files mode and url": "tls: {mode: files}\nwebhook: {url: https://127.0.0.1:9443, caBundle: Zm9v}\n",
	}
	for name, values := range tests {
		t.Run(name, func(t *testing.T) {
			out := helm(t, "lint", "--strict", chartDir(), "--namespace", namespace, "--values", valuesFile(t, values))
			for _, line := range strings.Split(string(out), "\n") {
				if strings.HasPrefix(line, "[WARNING]") || strings.HasPrefix(line, "[ERROR]") {
					t.Errorf("helm lint: %s", line)
				}
			}
		})
	}
}

func TestWebhookConfigurationInvariants(t *testing.T) {
	for name, values := range map[string]string{"default values": "", "non-default values": nonDefault} {
		t.Run(name, func(t *testing.T) {
			mwc := typed[admissionregistrationv1.MutatingWebhookConfiguration](t, render(t, values), "MutatingWebhookConfiguration")
			if len(mwc.Webhooks) != 2 {
				t.Fatalf("got %d webhooks, want 2 (the second for namespaces enforcing Pod Security)", len(mwc.Webhooks))
			}
			want := map[string]struct {
				path     string
				operator metav1.LabelSelectorOperator
			}{
				"inject.planeless.dev":              {"/inject", metav1.LabelSelectorOpNotIn},
				"pod-security.inject.planeless.dev": {"/inject/pod-security-enforced", metav1.LabelSelectorOpIn},
			}
			for _, wh := range mwc.Webhooks {
				w, ok := want[wh.Name]
				if !ok {
					t.Errorf("unexpected webhook %q", wh.Name)
					continue
				}
				checkWebhook(t, wh, w.path)
				// One pod matches one of the two, never both.
				requireExpr(t, wh.NamespaceSelector, metav1.LabelSelectorRequirement{
					Key: "pod-security.kubernetes.io/enforce", Operator: w.operator, Values: []string{"baseline", "restricted"},
				})
			}
			if mwc.Webhooks[0].Name != "inject.planeless.dev" {
				t.Errorf("the first webhook is %s, want inject.planeless.dev", mwc.Webhooks[0].Name)
			}
		})
	}
}

func checkWebhook(t *testing.T, wh admissionregistrationv1.MutatingWebhook, path string) {
	t.Helper()
	if svc := wh.ClientConfig.Service; svc == nil || svc.Path == nil || *svc.Path != path || svc.Namespace != namespace {
		t.Errorf("%s: clientConfig.service = %+v, want path %s in %s", wh.Name, svc, path, namespace)
	}
	wantRules := []admissionregistrationv1.RuleWithOperations{{
		Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
		Rule: admissionregistrationv1.Rule{
			APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods"},
			Scope: ptr(admissionregistrationv1.NamespacedScope),
		},
	}}
	if diff := cmp.Diff(wantRules, wh.Rules); diff != "" {
		t.Errorf("%s: rules are not CREATE pods only (-want +got):\n%s", wh.Name, diff)
	}
	if wh.SideEffects == nil || *wh.SideEffects != admissionregistrationv1.SideEffectClassNone {
		t.Errorf("%s: sideEffects = %v, want None", wh.Name, deref(wh.SideEffects))
	}
	if wh.ReinvocationPolicy == nil || *wh.ReinvocationPolicy != admissionregistrationv1.IfNeededReinvocationPolicy {
		t.Errorf("%s: reinvocationPolicy = %v, want IfNeeded", wh.Name, deref(wh.ReinvocationPolicy))
	}
	if wh.MatchPolicy == nil || *wh.MatchPolicy != admissionregistrationv1.Equivalent {
		t.Errorf("%s: matchPolicy = %v, want Equivalent", wh.Name, deref(wh.MatchPolicy))
	}
	if !slices.Equal(wh.AdmissionReviewVersions, []string{"v1"}) {
		t.Errorf("%s: admissionReviewVersions = %v, want [v1]", wh.Name, wh.AdmissionReviewVersions)
	}
	requireExpr(t, wh.NamespaceSelector, metav1.LabelSelectorRequirement{
		Key: "planeless.dev/inject", Operator: metav1.LabelSelectorOpIn, Values: []string{"enabled"},
	})
	excluded := notIn(t, wh.NamespaceSelector, "kubernetes.io/metadata.name")
	for _, ns := range []string{"kube-system", "kube-public", "kube-node-lease", namespace} {
		if !slices.Contains(excluded, ns) {
			t.Errorf("%s: namespaceSelector does not exclude %s (excludes %v)", wh.Name, ns, excluded)
		}
	}
	optOut := notIn(t, wh.ObjectSelector, "planeless.dev/inject")
	for _, v := range []string{"false", "disabled"} {
		if !slices.Contains(optOut, v) {
			t.Errorf("%s: objectSelector lets a pod labelled planeless.dev/inject=%s through (excludes %v)", wh.Name, v, optOut)
		}
	}
	var conditions []string
	for _, c := range wh.MatchConditions {
		conditions = append(conditions, c.Name)
	}
	if !slices.Equal(conditions, []string{"not-opted-out-by-annotation", "not-on-the-host-network"}) {
		t.Errorf("%s: matchConditions %v, want the annotation opt-out and the host network", wh.Name, conditions)
	}
}

func TestFailurePolicyAndTimeoutAreValues(t *testing.T) {
	tests := map[string]struct {
		values  string
		policy  admissionregistrationv1.FailurePolicyType
		timeout int32
		exclude string
	}{
		"the default fails closed":             {"", admissionregistrationv1.Fail, 10, ""},
		"ignore and a short timeout are taken": {nonDefault, admissionregistrationv1.Ignore, 3, "monitoring"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			wh := typed[admissionregistrationv1.MutatingWebhookConfiguration](t, render(t, tc.values), "MutatingWebhookConfiguration").Webhooks[0]
			if wh.FailurePolicy == nil || *wh.FailurePolicy != tc.policy {
				t.Errorf("failurePolicy = %v, want %s", deref(wh.FailurePolicy), tc.policy)
			}
			if wh.TimeoutSeconds == nil || *wh.TimeoutSeconds != tc.timeout {
				t.Errorf("timeoutSeconds = %v, want %d", deref(wh.TimeoutSeconds), tc.timeout)
			}
			if tc.exclude != "" && !slices.Contains(notIn(t, wh.NamespaceSelector, "kubernetes.io/metadata.name"), tc.exclude) {
				t.Errorf("excludeNamespaces value %s is not excluded", tc.exclude)
			}
		})
	}
}

func TestDefaultProxyImageIsTheEnvoyVersionPlanelessRendersFor(t *testing.T) {
	proxy, _ := chartValues(t)["proxy"].(map[string]any)
	want := "envoyproxy/envoy:v" + templates.EnvoyVersion
	if got := proxy["image"]; got != want {
		t.Errorf("values.yaml proxy.image = %v, want %s (templates.EnvoyVersion)", got, want)
	}
}

func TestDefaultTemplatesEqualTheBuiltInOnes(t *testing.T) {
	got := loadTemplates(t, render(t, ""))
	if diff := cmp.Diff(templates.Default(), got); diff != "" {
		t.Errorf("the chart's default container templates differ from templates/ (-built-in +chart):\n%s", diff)
	}
}

func TestValuesReachTheTemplatesAndFlags(t *testing.T) {
	objs := render(t, nonDefault)
	set := loadTemplates(t, objs)
	if set.Proxy.Image != "registry.example/envoy:v1.40.0-custom" {
		t.Errorf("proxy template image = %q", set.Proxy.Image)
	}
	if set.Init.Image != "registry.example/planeless-init:v1" {
		t.Errorf("init template image = %q", set.Init.Image)
	}
	dep := typed[appsv1.Deployment](t, objs, "Deployment")
	c := dep.Spec.Template.Spec.Containers[0]
	if c.Image != "registry.example/planeless:v9.9.9" {
		t.Errorf("webhook image = %q", c.Image)
	}
	for _, flag := range []string{
		"--proxy-uid=2000", "--proxy-gid=3000", "--native-sidecar=false", "--proxy-log-level=debug",
		"--egress=false", "--ipv6=false", "--proxy-inbound-port=16006", "--proxy-outbound-port=16001",
		"--proxy-stats-port=16090", "--cert-mode=files",
		"--access-log=text", "--tracing=zipkin", "--tracing-endpoint=zipkin.tracing:9411", "--tracing-sampling=12.5",
	} {
		if !slices.Contains(c.Args, flag) {
			t.Errorf("webhook args lack %s: %v", flag, c.Args)
		}
	}
	if ann := typed[admissionregistrationv1.MutatingWebhookConfiguration](t, objs, "MutatingWebhookConfiguration").Annotations["cert-manager.io/inject-ca-from"]; ann != namespace+"/planeless" {
		t.Errorf("cert-manager.io/inject-ca-from = %q, want %s/planeless", ann, namespace)
	}
	for _, kind := range []string{"Certificate", "Issuer", "PodMonitor", "ServiceMonitor"} {
		if !kinds(objs)[kind] {
			t.Errorf("no %s rendered", kind)
		}
	}
}

func TestDefaultInitImageIsTheWebhookImage(t *testing.T) {
	objs := render(t, "")
	c := typed[appsv1.Deployment](t, objs, "Deployment").Spec.Template.Spec.Containers[0]
	if init := loadTemplates(t, objs).Init.Image; init != c.Image {
		t.Errorf("init image %q is not the webhook image %q", init, c.Image)
	}
}

func TestDeploymentIsHardened(t *testing.T) {
	objs := render(t, "")
	dep := typed[appsv1.Deployment](t, objs, "Deployment")
	pod := dep.Spec.Template.Spec
	if *dep.Spec.Replicas != 2 {
		t.Errorf("replicas = %d, want 2", *dep.Spec.Replicas)
	}
	if pod.Affinity == nil || pod.Affinity.PodAntiAffinity == nil {
		t.Error("no pod anti-affinity")
	}
	if pod.SecurityContext == nil || pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot {
		t.Error("the pod may run as root")
	}
	c := pod.Containers[0]
	sc := c.SecurityContext
	if sc == nil || !*sc.ReadOnlyRootFilesystem || !*sc.RunAsNonRoot || *sc.AllowPrivilegeEscalation ||
		!slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("container security context is not restricted: %+v", sc)
	}
	if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" || c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Error("probes are not /healthz and /readyz")
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() {
		t.Error("no resource requests")
	}
	if !slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool {
		return e.Name == "POD_NAMESPACE" && e.ValueFrom != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.namespace"
	}) {
		t.Error("POD_NAMESPACE does not come from the downward API")
	}
	if dep.Spec.Template.Labels["planeless.dev/inject"] != "false" {
		t.Error("the webhook's own pods are not opted out")
	}
	if !kinds(objs)["PodDisruptionBudget"] {
		t.Error("no PodDisruptionBudget")
	}
	for _, want := range []string{"--cert-mode=self", "--secret-name=planeless-tls", "--service-name=planeless", "--webhook-config-name=planeless"} {
		if !slices.Contains(c.Args, want) {
			t.Errorf("webhook args lack %s: %v", want, c.Args)
		}
	}
}

func TestRBACNamesItsOwnObjects(t *testing.T) {
	objs := render(t, "")
	role := typed[rbacv1.Role](t, objs, "Role")
	cr := typed[rbacv1.ClusterRole](t, objs, "ClusterRole")
	for _, rules := range [][]rbacv1.PolicyRule{role.Rules, cr.Rules} {
		for _, r := range rules {
			if len(r.ResourceNames) == 0 {
				t.Errorf("rule %+v reaches every object, not only its own", r)
			}
			for _, verb := range r.Verbs {
				if verb == "*" || verb == "delete" || verb == "create" || verb == "patch" {
					t.Errorf("rule %+v grants %s", r, verb)
				}
			}
		}
	}
	if got := fmt.Sprint(role.Rules[0].ResourceNames); got != "[planeless-tls]" {
		t.Errorf("the Role's writable Secret is %s, want [planeless-tls]", got)
	}
	if got := fmt.Sprint(cr.Rules[0].ResourceNames); got != "[planeless]" {
		t.Errorf("the ClusterRole's writable webhook configuration is %s, want [planeless]", got)
	}
}

// loadTemplates writes the rendered templates ConfigMap to a folder and
// reads it back the way the webhook's --templates flag does.
func loadTemplates(t *testing.T, objs []*unstructured.Unstructured) templates.Set {
	t.Helper()
	var cm *corev1.ConfigMap
	for _, o := range objs {
		if o.GetKind() == "ConfigMap" && strings.HasSuffix(o.GetName(), "-templates") {
			cm = typed[corev1.ConfigMap](t, []*unstructured.Unstructured{o}, "ConfigMap")
		}
	}
	if cm == nil {
		t.Fatal("no templates ConfigMap rendered")
	}
	dir := t.TempDir()
	for _, name := range []string{templates.ProxyFile, templates.InitFile} {
		data, ok := cm.Data[name]
		if !ok {
			t.Fatalf("the templates ConfigMap has no %s", name)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	set, err := templates.Load(dir)
	if err != nil {
		t.Fatalf("the webhook would reject the chart's templates: %v", err)
	}
	return set
}

func requireExpr(t *testing.T, sel *metav1.LabelSelector, want metav1.LabelSelectorRequirement) {
	t.Helper()
	if sel == nil || !slices.ContainsFunc(sel.MatchExpressions, func(r metav1.LabelSelectorRequirement) bool { return cmp.Equal(r, want) }) {
		t.Errorf("selector %+v lacks %+v", sel, want)
	}
}

func notIn(t *testing.T, sel *metav1.LabelSelector, key string) []string {
	t.Helper()
	if sel == nil {
		t.Fatalf("no selector on %s", key)
	}
	for _, r := range sel.MatchExpressions {
		if r.Key == key && r.Operator == metav1.LabelSelectorOpNotIn {
			return r.Values
		}
	}
	t.Fatalf("selector %+v has no NotIn on %s", sel, key)
	return nil
}

func ptr[T any](v T) *T { return &v }

// deref prints what a pointer field holds, or <unset>.
func deref[T any](p *T) any {
	if p == nil {
		return "<unset>"
	}
	return *p
}
