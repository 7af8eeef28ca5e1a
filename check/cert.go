package check

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"time"
)

// Cert is a serving certificate chain, leaf first.
type Cert struct {
	Chain []*x509.Certificate
}

// DefaultExpiryMargin is how close to expiry a certificate may get before
// check calls it a problem: the webhook's own rotation (cert-controller)
// and cert-manager (the chart's renewBefore) both renew weeks earlier, so a
// certificate this close to its end is one nothing renews.
const DefaultExpiryMargin = 7 * 24 * time.Hour

// parseChain reads the certificates of a PEM bundle.
func parseChain(data []byte) (*Cert, error) {
	var c Cert
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parsing certificate: %w", err)
		}
		c.Chain = append(c.Chain, cert)
	}
	if len(c.Chain) == 0 {
		return nil, errors.New("no certificate in PEM data")
	}
	return &c, nil
}

// CertReport is what check says of the serving certificate.
type CertReport struct {
	// Source says where the certificate was read.
	Source    string    `json:"source"`
	Subject   string    `json:"subject,omitempty"`
	Names     []string  `json:"names,omitempty"`
	NotBefore time.Time `json:"notBefore"`
	NotAfter  time.Time `json:"notAfter"`
	// ValidSeconds is how long it stays valid from now; negative once
	// expired.
	ValidSeconds int64    `json:"validSeconds"`
	Problems     []string `json:"problems,omitempty"`
}

// judgeCert checks the serving certificate as the API server will: signed
// by the configuration's caBundle, valid for the name it calls, in date,
// and not about to expire unrenewed.
func judgeCert(w Webhook, now time.Time, margin time.Duration) *CertReport {
	if w.Cert == nil {
		return nil
	}
	leaf := w.Cert.Chain[0]
	r := &CertReport{
		Source:       w.CertSource,
		Subject:      leaf.Subject.String(),
		Names:        certNames(leaf),
		NotBefore:    leaf.NotBefore,
		NotAfter:     leaf.NotAfter,
		ValidSeconds: int64(leaf.NotAfter.Sub(now) / time.Second),
	}
	switch {
	case now.After(leaf.NotAfter):
		r.Problems = append(r.Problems, fmt.Sprintf("expired on %s", leaf.NotAfter.UTC().Format(time.RFC3339)))
	case now.Before(leaf.NotBefore):
		r.Problems = append(r.Problems, fmt.Sprintf("not valid before %s", leaf.NotBefore.UTC().Format(time.RFC3339)))
	case leaf.NotAfter.Sub(now) < margin:
		r.Problems = append(r.Problems, fmt.Sprintf("expires in %s and has not been renewed", humanDuration(leaf.NotAfter.Sub(now))))
	}
	if w.CertName != "" {
		if err := leaf.VerifyHostname(w.CertName); err != nil {
			r.Problems = append(r.Problems, fmt.Sprintf("not valid for %s, the name the API server calls", w.CertName))
		}
	}
	if len(w.CABundle) == 0 {
		r.Problems = append(r.Problems, "the webhook configuration has no caBundle")
		return r
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(w.CABundle) {
		r.Problems = append(r.Problems, "the webhook configuration's caBundle holds no certificate")
		return r
	}
	intermediates := x509.NewCertPool()
	for _, c := range w.Cert.Chain[1:] {
		intermediates.AddCert(c)
	}
	// The chain in the middle of its validity: dates are judged above.
	at := leaf.NotBefore.Add(leaf.NotAfter.Sub(leaf.NotBefore) / 2)
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: intermediates, CurrentTime: at}); err != nil {
		r.Problems = append(r.Problems, fmt.Sprintf("not signed by the webhook configuration's caBundle: %v", err))
	}
	return r
}

func certNames(c *x509.Certificate) []string {
	names := append([]string(nil), c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	return names
}

// humanDuration writes a duration the way a person reads it: 364 days,
// 5 hours, 12 minutes.
func humanDuration(d time.Duration) string {
	switch {
	case d < 0:
		return "-" + humanDuration(-d)
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days", int(d/(24*time.Hour)))
	case d >= 2*time.Hour:
		return fmt.Sprintf("%d hours", int(d/time.Hour))
	default:
		return fmt.Sprintf("%d minutes", int(d/time.Minute))
	}
}
