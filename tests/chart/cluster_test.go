package chart_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/planeless/planeless/tests/kube"
)

// startCluster runs a control plane with the chart's namespace and
// stand-ins for the CRDs of the optional kinds (cert-manager's Issuer and
// Certificate, prometheus-operator's PodMonitor and ServiceMonitor). The
// stand-ins accept any spec: the dry run proves those objects' kind, scope
// and metadata, not their spec.
func startCluster(t *testing.T) (*kube.Cluster, func(*unstructured.Unstructured) (dynamic.ResourceInterface, error)) {
	t.Helper()
	cluster := kube.Start(t)
	if _, err := envtest.InstallCRDs(cluster.Config, envtest.CRDInstallOptions{CRDs: []*apiextensionsv1.CustomResourceDefinition{
		standIn("cert-manager.io", "Issuer", "issuers"),
		standIn("cert-manager.io", "Certificate", "certificates"),
		standIn("monitoring.coreos.com", "PodMonitor", "podmonitors"),
		standIn("monitoring.coreos.com", "ServiceMonitor", "servicemonitors"),
	}}); err != nil {
		t.Fatalf("installing stand-in CRDs: %v", err)
	}
	if _, err := cluster.Client.CoreV1().Namespaces().Create(t.Context(),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating namespace %s: %v", namespace, err)
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc))
	dyn, err := dynamic.NewForConfig(cluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	resource := func(obj *unstructured.Unstructured) (dynamic.ResourceInterface, error) {
		gvk := obj.GroupVersionKind()
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			return nil, err
		}
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			ns := obj.GetNamespace()
			if ns == "" {
				ns = namespace
			}
			return dyn.Resource(m.Resource).Namespace(ns), nil
		}
		return dyn.Resource(m.Resource), nil
	}
	return cluster, resource
}

func standIn(group, kind, plural string) *apiextensionsv1.CustomResourceDefinition {
	return &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: plural + "." + group},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: group,
			Names: apiextensionsv1.CustomResourceDefinitionNames{Kind: kind, Plural: plural, ListKind: kind + "List"},
			Scope: apiextensionsv1.NamespaceScoped,
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{
				Name: "v1", Served: true, Storage: true,
				Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
					Type:                   "object",
					XPreserveUnknownFields: ptr(true),
				}},
			}},
		},
	}
}

func TestEveryObjectPassesServerSideDryRun(t *testing.T) {
	cluster, resource := startCluster(t)
	_ = cluster
	tests := map[string]string{
		"default values":                 "",
		"non-default values":             nonDefault,
		"files mode and url":             "tls: {mode: files}\nwebhook: {url: https://127.0.0.1:9443, caBundle: Zm9v}\n",
		"required anti-affinity, no PDB": "antiAffinity: required\npodDisruptionBudget: {enabled: false}\n",
		"CNI mode":                       cniValues,
	}
	for name, values := range tests {
		t.Run(name, func(t *testing.T) {
			for _, obj := range render(t, values) {
				ri, err := resource(obj)
				if err != nil {
					t.Errorf("%s %s: no such resource on the API server: %v", obj.GetKind(), obj.GetName(), err)
					continue
				}
				_, err = ri.Create(t.Context(), obj, metav1.CreateOptions{
					DryRun:          []string{metav1.DryRunAll},
					FieldValidation: metav1.FieldValidationStrict,
				})
				if err != nil {
					t.Errorf("%s %s: the API server rejects it: %v", obj.GetKind(), obj.GetName(), err)
				}
			}
		})
	}
}

// create stores every object for real, as helm install would.
func create(t *testing.T, resource func(*unstructured.Unstructured) (dynamic.ResourceInterface, error), objs []*unstructured.Unstructured) {
	t.Helper()
	for _, obj := range objs {
		ri, err := resource(obj)
		if err != nil {
			t.Fatalf("%s %s: %v", obj.GetKind(), obj.GetName(), err)
		}
		if _, err := ri.Create(t.Context(), obj, metav1.CreateOptions{FieldValidation: metav1.FieldValidationStrict}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("creating %s %s: %v", obj.GetKind(), obj.GetName(), err)
		}
	}
}
