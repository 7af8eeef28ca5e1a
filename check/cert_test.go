package check

import (
	"os"
	"testing"
	"time"

	"github.com/planeless/planeless/tests/certs"
)

func TestCertificates(t *testing.T) {
	ca := certs.NewCA(t)
	pair := ca.Issue(t, t.TempDir(), "planeless.planeless.svc")
	data, err := os.ReadFile(pair.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := parseChain(data)
	if err != nil {
		t.Fatal(err)
	}
	leaf := cert.Chain[0]
	fine := leaf.NotBefore.Add(time.Hour)
	tests := map[string]struct {
		now      time.Time
		margin   time.Duration
		caBundle []byte
		name     string
		problem  string
	}{
		"signed by the caBundle, for the Service's name, in date": {
			now: fine, margin: time.Hour,
		},
		"expired": {
			now: leaf.NotAfter.Add(time.Minute), margin: time.Hour, problem: "expired on " + stamp(leaf.NotAfter),
		},
		"not yet valid": {
			now: leaf.NotBefore.Add(-time.Minute), margin: time.Hour, problem: "not valid before " + stamp(leaf.NotBefore),
		},
		"closer to its end than the margin": {
			now: fine, margin: DefaultExpiryMargin, problem: "expires in 24 hours and has not been renewed",
		},
		"signed by another CA": {
			now: fine, margin: time.Hour, caBundle: certs.NewCA(t).PEM, problem: "not signed by the webhook configuration's caBundle",
		},
		"for another name": {
			now: fine, margin: time.Hour, name: "other.planeless.svc", problem: "not valid for other.planeless.svc, the name the API server calls",
		},
		"without a caBundle to check it against": {
			now: fine, margin: time.Hour, caBundle: []byte{}, problem: "the webhook configuration has no caBundle",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			w := Webhook{Cert: cert, CertSource: "Secret planeless/planeless-tls, key tls.crt", CABundle: ca.PEM, CertName: "planeless.planeless.svc"}
			if tc.caBundle != nil {
				w.CABundle = tc.caBundle
			}
			if tc.name != "" {
				w.CertName = tc.name
			}
			r := judgeCert(w, tc.now, tc.margin)
			if want := int64(leaf.NotAfter.Sub(tc.now) / time.Second); r.ValidSeconds != want || !r.NotAfter.Equal(leaf.NotAfter) {
				t.Errorf("valid for %d s until %s, want %d s until %s", r.ValidSeconds, r.NotAfter, want, leaf.NotAfter)
			}
			switch {
			case tc.problem == "" && len(r.Problems) > 0:
				t.Errorf("problems = %q, want none", r.Problems)
			case tc.problem != "" && (len(r.Problems) != 1 || !hasReason(r.Problems, tc.problem)):
				t.Errorf("problems = %q, want exactly %q", r.Problems, tc.problem)
			}
		})
	}
}

func TestParseChainRefusesWhatIsNotACertificate(t *testing.T) {
	if _, err := parseChain([]byte("not PEM")); err == nil || err.Error() != "no certificate in PEM data" {
		t.Errorf("error = %v", err)
	}
}
