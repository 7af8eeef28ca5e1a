package inject

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
)

// Key leaves out of its digest the value of metadata.managedFields and
// nothing else, which is only right while decodePod reads nothing of it:
// pods differing there must decode to the same pod, and have one key.
func TestPodsDifferingOnlyInManagedFieldsDecodeTheSameAndShareAKey(t *testing.T) {
	const pod = `{"metadata":{"generateName":"web-1-","labels":{"app":"web"},"managedFields":%s},"spec":{"containers":[{"name":"web","ports":[{"containerPort":8080}]}]}}`
	values := []string{
		`[{"manager":"kube-controller-manager","operation":"Update","time":"2026-12-03T10:00:01Z","fieldsV1":{"f:metadata":{}}}]`,
		`[{"manager":"kube-controller-manager","operation":"Update","time":"2026-12-03T10:00:02Z","fieldsV1":{"f:metadata":{}}}]`,
		`"not even a list"`,
		`null`,
	}
	first := []byte(strings.Replace(pod, "%s", values[0], 1))
	want, err := decodePod(first)
	if err != nil {
		t.Fatal(err)
	}
	wantKey, ok := KeyOf(first, "shop")
	if !ok {
		t.Fatal("no key for a plain pod")
	}
	for _, v := range values[1:] {
		raw := []byte(strings.Replace(pod, "%s", v, 1))
		got, err := decodePod(raw)
		if err != nil {
			t.Fatalf("managedFields %s: %v", v, err)
		}
		if !equality.Semantic.DeepEqual(got, want) {
			t.Errorf("managedFields %s: the pod decodes to something else: the injector reads managedFields", v)
		}
		if k, _ := KeyOf(raw, "shop"); k != wantKey {
			t.Errorf("managedFields %s: another key", v)
		}
	}
}

// The API server names each pod's service account token volume at random
// before admission, and mounts it in every container: pods differing only
// there share a key and decode the same.
func TestPodsDifferingOnlyInTheirTokenVolumeShareAKey(t *testing.T) {
	const pod = `{"metadata":{"generateName":"web-1-"},"spec":{"volumes":[{"name":"%s","projected":{"sources":[]}}],` +
		`"initContainers":[{"name":"setup","volumeMounts":[{"name":"%s","mountPath":"/t"}]}],` +
		`"containers":[{"name":"web","volumeMounts":[{"name":"%s","mountPath":"/t"}],"ports":[{"containerPort":8080}]}]}}`
	of := func(name string) []byte { return []byte(strings.ReplaceAll(pod, "%s", name)) }
	want, _ := decodePod(of("kube-api-access-abcde"))
	wantKey, ok := KeyOf(of("kube-api-access-abcde"), "shop")
	if !ok {
		t.Fatal("no key")
	}
	got, _ := decodePod(of("kube-api-access-fghij"))
	if !equality.Semantic.DeepEqual(got, want) {
		t.Error("the pods decode differently: the injector reads the token volume's name")
	}
	if k, _ := KeyOf(of("kube-api-access-fghij"), "shop"); k != wantKey {
		t.Error("another key")
	}
	// A name that may be the injector's own is read, and keyed.
	if k, _ := KeyOf(of("planeless-bootstrap"), "shop"); k == wantKey {
		t.Error("a volume named planeless-bootstrap keyed as any other")
	}
}

func TestKeysDifferWithAnythingElse(t *testing.T) {
	raw := []byte(`{"metadata":{"labels":{"app":"web"},"managedFields":[]},"spec":{}}`)
	k, _ := KeyOf(raw, "shop")
	for name, other := range map[string]func() (Key, bool){
		"another namespace":      func() (Key, bool) { return KeyOf(raw, "shop2") },
		"the namespace moved in": func() (Key, bool) { return KeyOf([]byte("p"+string(raw)), "sho") },
		"another label":          func() (Key, bool) { return KeyOf([]byte(strings.Replace(string(raw), "web", "wec", 1)), "shop") },
		"managedFields out of metadata": func() (Key, bool) {
			return KeyOf([]byte(`{"metadata":{"labels":{"app":"web"}},"managedFields":[],"spec":{}}`), "shop")
		},
	} {
		if got, _ := other(); got == k {
			t.Errorf("%s: the same key", name)
		}
	}
}

func TestNoKeyForAPodPatchRefusesOrCannotSplit(t *testing.T) {
	for name, raw := range map[string]string{
		"too large":     `{"metadata":{"annotations":{"a":"` + strings.Repeat("x", MaxPodBytes) + `"}}}`,
		"not an object": `[1,2]`,
		"cut short":     `{"metadata":{"labels":`,
	} {
		if _, ok := KeyOf([]byte(raw), "shop"); ok {
			t.Errorf("%s: a key", name)
		}
	}
}
