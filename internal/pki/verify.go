package pki

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// SpineCipherSuites is the sandbox's reading of Spine's TLS 1.2 cipher
// list (gpconnect-1.6.md §1.4 requires TLS 1.2 "with Spine's cipher
// list"; the list itself is not in the digest): the ECDHE AES-GCM suites
// Go supports, RSA and ECDSA. This is the one place the list is kept.
// TLS 1.3 suites are not configurable in Go; --tls-versions 1.2,1.3 takes
// Go's.
var SpineCipherSuites = []uint16{
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
}

// Status codes Spine Core answers a client certificate problem with, as
// nginx does (gpconnect-1.6.md §1.5): 495 for a certificate that fails
// verification, 496 for none.
const (
	StatusCertError     = 495
	StatusNoCertificate = 496
)

// The named checks of the sandbox's client-certificate gate
// (internal/sandbox/tls.go), as the journal, reports and scenarios' expect
// name them.
const (
	// CheckClientCertificate: PDS, SDS, the SSP and the provider require
	// a client certificate chained to the CA, valid now and not revoked
	// (gpconnect-1.6.md §1.4); none is 496, a bad one 495 (§1.5).
	CheckClientCertificate = "TLS_CLIENT_CERTIFICATE"
	// CheckProviderFromSSP: a provider's service root accepts only the
	// SSP's certificate ("accept only connections from the SSP", §1.4).
	CheckProviderFromSSP = "TLS_PROVIDER_CLIENT_IS_SSP"
)

// CertError is a refused client certificate: the status Spine answers
// and why.
type CertError struct {
	Status int
	Reason string
}

func (e *CertError) Error() string { return fmt.Sprintf("%d %s", e.Status, e.Reason) }

// Trust is what verifies client certificates: the CA and its CRL.
type Trust struct {
	CA   *x509.Certificate
	pool *x509.CertPool
	crl  *x509.RevocationList
}

// LoadTrust reads ca.pem and crl.pem from dir; the CRL must be signed by
// the CA.
func LoadTrust(dir string) (*Trust, error) {
	ca, err := readCert(filepath.Join(dir, CAFile))
	if err != nil {
		return nil, err
	}
	t := &Trust{CA: ca, pool: x509.NewCertPool()}
	t.pool.AddCert(ca)
	raw, err := os.ReadFile(filepath.Join(dir, CRLFile))
	if err != nil {
		return nil, err
	}
	if b, _ := pem.Decode(raw); b != nil {
		raw = b.Bytes
	}
	if t.crl, err = x509.ParseRevocationList(raw); err != nil {
		return nil, fmt.Errorf("%s: %w", CRLFile, err)
	}
	if err := t.crl.CheckSignatureFrom(ca); err != nil {
		return nil, fmt.Errorf("%s is not signed by %s: %w", CRLFile, CAFile, err)
	}
	return t, nil
}

// Pool returns a pool holding the CA.
func (t *Trust) Pool() *x509.CertPool { return t.pool }

// Verify is the one check of a client certificate, used by PDS, SDS, the
// SSP and the provider: chained to the CA, within its validity at now, and
// not on the CRL. cs is the connection's state; nil (plain HTTP) or no
// certificate is a 496, anything else wrong a 495.
func (t *Trust) Verify(cs *tls.ConnectionState, now time.Time) (*x509.Certificate, *CertError) {
	if cs == nil || len(cs.PeerCertificates) == 0 {
		return nil, &CertError{StatusNoCertificate, "no client certificate"}
	}
	leaf := cs.PeerCertificates[0]
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, err := leaf.Verify(x509.VerifyOptions{Roots: t.pool, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	if err != nil {
		var inv x509.CertificateInvalidError
		if errors.As(err, &inv) && inv.Reason == x509.Expired {
			if now.Before(leaf.NotBefore) {
				return leaf, &CertError{StatusCertError, "client certificate not yet valid"}
			}
			return leaf, &CertError{StatusCertError, "client certificate expired"}
		}
		var ua x509.UnknownAuthorityError
		if errors.As(err, &ua) {
			return leaf, &CertError{StatusCertError, "client certificate not issued by the Spine CA"}
		}
		return leaf, &CertError{StatusCertError, "client certificate invalid: " + err.Error()}
	}
	for _, e := range t.crl.RevokedCertificateEntries {
		if e.SerialNumber.Cmp(leaf.SerialNumber) == 0 {
			return leaf, &CertError{StatusCertError, "client certificate revoked"}
		}
	}
	return leaf, nil
}

// Names returns the names a certificate identifies: its CN and its DNS
// SANs, lower-cased.
func Names(c *x509.Certificate) []string {
	out := []string{strings.ToLower(c.Subject.CommonName)}
	for _, n := range c.DNSNames {
		out = append(out, strings.ToLower(n))
	}
	return out
}

// Matches reports whether c's CN or a DNS SAN is fqdn.
func Matches(c *x509.Certificate, fqdn string) bool {
	return slices.Contains(Names(c), strings.ToLower(fqdn))
}

// WriteCertError is the one writer of 495 and 496: a short plain-text
// line and no FHIR body, as Spine Core's front end answers
// (gpconnect-1.6.md §1.5).
func WriteCertError(w http.ResponseWriter, e *CertError) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(e.Status)
	fmt.Fprintf(w, "%d %s\n", e.Status, e.Reason)
}

// ServerConfig is the listener's TLS configuration: server.pem, a client
// certificate requested but verified by the handlers (so they can answer
// 495/496 rather than fail the handshake), TLS 1.2 with
// SpineCipherSuites only unless allow13.
func ServerConfig(dir string, allow13 bool) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, ServerFile), filepath.Join(dir, ServerKeyFile))
	if err != nil {
		return nil, err
	}
	c := &tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequestClientCert,
		MinVersion:   tls.VersionTLS12,
		MaxVersion:   tls.VersionTLS12,
		CipherSuites: SpineCipherSuites,
	}
	if allow13 {
		c.MaxVersion = tls.VersionTLS13
	}
	return c, nil
}

// ClientConfig is a client's TLS configuration trusting dir's CA and
// presenting NAME.pem/NAME-key.pem from dir (e.g. "consumer",
// "bad/expired"); name "" presents no certificate.
func ClientConfig(dir, name string) (*tls.Config, error) {
	ca, err := readCert(filepath.Join(dir, CAFile))
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	c := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if name != "" {
		cert, err := tls.LoadX509KeyPair(filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem"))
		if err != nil {
			return nil, err
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

func readCert(path string) (*x509.Certificate, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	b, _ := pem.Decode(raw)
	if b == nil || b.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%s: no PEM certificate", path)
	}
	return x509.ParseCertificate(b.Bytes)
}

// AddPEMFile adds the certificates of a PEM file to pool.
func AddPEMFile(pool *x509.CertPool, path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if !pool.AppendCertsFromPEM(raw) {
		return fmt.Errorf("%s: no PEM certificate", path)
	}
	return nil
}
