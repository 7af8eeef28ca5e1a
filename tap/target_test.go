package tap

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseTarget(t *testing.T) {
	tests := map[string]struct {
		arg, namespace string
		want           Target
		wantErr        bool
	}{
		"a namespace":                   {arg: "ns/shop", namespace: "default", want: Target{Kind: KindNamespace, Namespace: "shop"}},
		"a namespace by its long name":  {arg: "namespace/shop", want: Target{Kind: KindNamespace, Namespace: "shop"}},
		"a deployment in the namespace": {arg: "deploy/cart", namespace: "shop", want: Target{Kind: KindDeployment, Namespace: "shop", Name: "cart"}},
		"a deployment by its long name": {arg: "deployment/cart", namespace: "shop", want: Target{Kind: KindDeployment, Namespace: "shop", Name: "cart"}},
		"a pod":                         {arg: "pod/cart-7c9d8f6b5-x2x7k", namespace: "shop", want: Target{Kind: KindPod, Namespace: "shop", Name: "cart-7c9d8f6b5-x2x7k"}},
		"a pod by its short name":       {arg: "po/cart-1", namespace: "shop", want: Target{Kind: KindPod, Namespace: "shop", Name: "cart-1"}},
		"a bare name":                   {arg: "cart", namespace: "shop", wantErr: true},
		"an unknown kind":               {arg: "svc/cart", namespace: "shop", wantErr: true},
		"an empty name":                 {arg: "pod/", namespace: "shop", wantErr: true},
		"a name with a slash":           {arg: "pod/a/b", namespace: "shop", wantErr: true},
		"a pod with no namespace":       {arg: "pod/cart", wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseTarget(tc.arg, tc.namespace)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ParseTarget(%q, %q) error = %v, want error %v", tc.arg, tc.namespace, err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseTarget (-want +got):\n%s", diff)
			}
		})
	}
}
