package chart_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
)

// The NetworkPolicy opens the webhook's pods to the webhook port and the
// metrics port only, from the sources the values name; the real API server
// stores it as rendered.
func TestNetworkPolicyOpensOnlyTheWebhookAndMetricsPorts(t *testing.T) {
	cluster, resource := startCluster(t)
	tests := map[string]struct {
		values      string
		wantWebhook []networkingv1.NetworkPolicyPeer
		wantMetrics []networkingv1.NetworkPolicyPeer
	}{
		"by default from anywhere": {values: ""},
		"from the sources given": {
			values:      "networkPolicy:\n  webhookFrom: [{ipBlock: {cidr: 10.0.0.0/24}}]\n  metricsFrom: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}}]\n",
			wantWebhook: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/24"}}},
			wantMetrics: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "monitoring"}}}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			objs := render(t, tc.values)
			np := typed[networkingv1.NetworkPolicy](t, objs, "NetworkPolicy")
			if !slices.Equal(np.Spec.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}) {
				t.Errorf("policy types %v, want Ingress", np.Spec.PolicyTypes)
			}
			if np.Spec.PodSelector.MatchLabels["app.kubernetes.io/name"] != "planeless" {
				t.Errorf("the policy selects %v, not the webhook's pods", np.Spec.PodSelector)
			}
			want := []struct {
				port int
				from []networkingv1.NetworkPolicyPeer
			}{{9443, tc.wantWebhook}, {9090, tc.wantMetrics}}
			if len(np.Spec.Ingress) != len(want) {
				t.Fatalf("%d ingress rules, want %d", len(np.Spec.Ingress), len(want))
			}
			for i, rule := range np.Spec.Ingress {
				if len(rule.Ports) != 1 || rule.Ports[0].Port == nil || *rule.Ports[0].Port != intstr.FromInt32(int32(want[i].port)) {
					t.Errorf("rule %d opens %+v, want port %d only", i, rule.Ports, want[i].port)
				}
				if !reflect.DeepEqual(rule.From, want[i].from) {
					t.Errorf("rule %d admits %+v, want %+v", i, rule.From, want[i].from)
				}
			}
			for _, obj := range objs {
				if obj.GetKind() != "NetworkPolicy" {
					continue
				}
				ri, err := resource(obj)
				if err != nil {
					t.Fatal(err)
				}
				obj.SetName(obj.GetName() + "-" + strings.ReplaceAll(name, " ", "-"))
				if _, err := ri.Create(t.Context(), obj, metav1.CreateOptions{FieldValidation: metav1.FieldValidationStrict}); err != nil {
					t.Fatalf("the API server refuses the NetworkPolicy: %v", err)
				}
				stored, err := cluster.Client.NetworkingV1().NetworkPolicies(namespace).Get(t.Context(), obj.GetName(), metav1.GetOptions{})
				if err != nil || len(stored.Spec.Ingress) != 2 {
					t.Errorf("the stored NetworkPolicy: %v %+v", err, stored)
				}
			}
		})
	}
	if off := render(t, "networkPolicy: {enabled: false}\n"); kinds(off)["NetworkPolicy"] {
		t.Error("networkPolicy.enabled false still renders a NetworkPolicy")
	}
}

// With tls.mode self the webhook may update its own configuration; the
// ValidatingAdmissionPolicy the chart ships, applied to the real API server,
// lets its identity change the caBundle and nothing else, while anyone else
// (helm, an operator) still changes what they like.
func TestTheWebhooksIdentityMayChangeOnlyTheCABundle(t *testing.T) {
	cluster, resource := startCluster(t)
	create(t, resource, render(t, ""))
	ctx := t.Context()
	asWebhook, err := kubernetes.NewForConfig(cluster.Impersonate(namespace, "planeless"))
	if err != nil {
		t.Fatal(err)
	}
	update := func(c kubernetes.Interface, change func(*admissionregistrationv1.MutatingWebhookConfiguration)) error {
		mwc, err := c.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(ctx, "planeless", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		change(mwc)
		_, err = c.AdmissionregistrationV1().MutatingWebhookConfigurations().Update(ctx, mwc, metav1.UpdateOptions{})
		return err
	}
	addUpdate := func(m *admissionregistrationv1.MutatingWebhookConfiguration) {
		m.Webhooks[0].Rules[0].Operations = append(m.Webhooks[0].Rules[0].Operations, admissionregistrationv1.Update)
	}
	// The API server loads policies asynchronously: wait until it refuses.
	deadline := time.Now().Add(2 * time.Minute)
	for err := update(asWebhook, addUpdate); err == nil || !strings.Contains(err.Error(), "may change only the caBundle"); err = update(asWebhook, addUpdate) {
		if time.Now().After(deadline) {
			t.Fatalf("the webhook's identity changed the rules of its configuration (last error: %v)", err)
		}
		if err == nil {
			// It got through before the policy was loaded: undo it.
			if err := update(cluster.Client, func(m *admissionregistrationv1.MutatingWebhookConfiguration) {
				m.Webhooks[0].Rules[0].Operations = m.Webhooks[0].Rules[0].Operations[:1]
			}); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(200 * time.Millisecond)
	}

	refused := map[string]func(*admissionregistrationv1.MutatingWebhookConfiguration){
		"a rule": addUpdate,
		"the failurePolicy": func(m *admissionregistrationv1.MutatingWebhookConfiguration) {
			m.Webhooks[1].FailurePolicy = ptr(admissionregistrationv1.Ignore)
		},
		"the namespaceSelector": func(m *admissionregistrationv1.MutatingWebhookConfiguration) {
			m.Webhooks[0].NamespaceSelector = &metav1.LabelSelector{}
		},
		"the service path": func(m *admissionregistrationv1.MutatingWebhookConfiguration) {
			m.Webhooks[0].ClientConfig.Service.Path = ptr("/other")
		},
		"a matchCondition": func(m *admissionregistrationv1.MutatingWebhookConfiguration) { m.Webhooks[0].MatchConditions = nil },
		"a label":          func(m *admissionregistrationv1.MutatingWebhookConfiguration) { m.Labels["extra"] = "x" },
		"one more webhook": func(m *admissionregistrationv1.MutatingWebhookConfiguration) {
			m.Webhooks = append(m.Webhooks, *m.Webhooks[0].DeepCopy())
			m.Webhooks[2].Name = "more.planeless.dev"
		},
		"one webhook fewer": func(m *admissionregistrationv1.MutatingWebhookConfiguration) { m.Webhooks = m.Webhooks[:1] },
	}
	for what, change := range refused {
		t.Run("the webhook may not change "+what, func(t *testing.T) {
			if err := update(asWebhook, change); err == nil || !strings.Contains(err.Error(), "may change only the caBundle") {
				t.Errorf("the update was not refused by the policy: %v", err)
			}
		})
	}
	t.Run("the webhook may change the caBundle", func(t *testing.T) {
		if err := update(asWebhook, func(m *admissionregistrationv1.MutatingWebhookConfiguration) {
			for i := range m.Webhooks {
				m.Webhooks[i].ClientConfig.CABundle = []byte("-----BEGIN CERTIFICATE-----\n")
			}
		}); err != nil {
			t.Errorf("the caBundle update was refused: %v", err)
		}
	})
	t.Run("an administrator may change the rules", func(t *testing.T) {
		if err := update(cluster.Client, addUpdate); err != nil {
			t.Errorf("an administrator's update was refused: %v", err)
		}
	})
}

// The policy compares every field of a webhook but the caBundle: a field
// Kubernetes adds to MutatingWebhook fails this test until the policy
// compares it too.
func TestThePolicyComparesEveryWebhookField(t *testing.T) {
	objs := render(t, "")
	var expression string
	for _, o := range objs {
		if o.GetKind() == "ValidatingAdmissionPolicy" {
			vap := typed[admissionregistrationv1.ValidatingAdmissionPolicy](t, objs, "ValidatingAdmissionPolicy")
			expression = vap.Spec.Validations[0].Expression
		}
	}
	if expression == "" {
		t.Fatal("the default chart renders no ValidatingAdmissionPolicy")
	}
	fields := jsonFields(reflect.TypeFor[admissionregistrationv1.MutatingWebhook]())
	fields = slices.DeleteFunc(fields, func(f string) bool { return f == "clientConfig" || f == "name" })
	for _, f := range fields {
		if !strings.Contains(expression, "o.?"+f+" == w.?"+f) {
			t.Errorf("the policy does not compare the webhooks' %s", f)
		}
	}
	for _, f := range jsonFields(reflect.TypeFor[admissionregistrationv1.WebhookClientConfig]()) {
		if f == "caBundle" {
			continue
		}
		if !strings.Contains(expression, "o.clientConfig.?"+f+" == w.clientConfig.?"+f) {
			t.Errorf("the policy does not compare the webhooks' clientConfig.%s", f)
		}
	}
	if kinds(render(t, "tls: {mode: files}\nwebhook: {caBundle: Zm9v}\n"))["ValidatingAdmissionPolicy"] {
		t.Error("files mode, where the webhook has no rights, renders the policy")
	}
}

func jsonFields(typ reflect.Type) []string {
	var names []string
	for f := range typ.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "" && name != "-" {
			names = append(names, name)
		}
	}
	return names
}
