package proxy

import (
	"os"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/planeless/planeless/tests/pods"
)

// FuzzFromPod feeds arbitrary annotation values through the table: no
// panic, and either a Spec whose ports are valid or an error.
func FuzzFromPod(f *testing.F) {
	for _, seed := range []string{"8080:http", "80800:http", "8080:quic", "1,2,3:grpc", ":", ",,", "65535:tcp", "10.0.0.0/8", "-1"} {
		f.Add(Prefix+"ports", seed)
		f.Add(Prefix+"exclude-outbound-cidrs", seed)
	}
	f.Add(Prefix+"proxy-cpu", "1e3")
	f.Add(Prefix+"proxy-concurrency", "99999999999999999999")
	f.Fuzz(func(t *testing.T, key, value string) {
		pod := testPod(pods.Annotation(key, value), pods.Ports(corev1.ContainerPort{ContainerPort: 8080}))
		s, _, err := FromPod(pod, DefaultDefaults())
		if err != nil {
			return
		}
		for _, p := range s.Inbound {
			if p.Number == 0 {
				t.Fatalf("port 0 accepted from %q=%q", key, value)
			}
		}
	})
}

func testSource(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("frompod_test.go")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
