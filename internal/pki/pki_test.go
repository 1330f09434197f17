package pki_test

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/pki"
)

func generate(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	_, err := pki.Generate(dir, pki.Options{ConsumerFQDN: "a1001.consumer.spine-sandbox.invalid"})
	assert.NilError(t, err)
	return dir
}

// state is the connection state of a client presenting NAME.pem.
func state(t *testing.T, dir, name string) *tls.ConnectionState {
	t.Helper()
	c, err := pki.ClientConfig(dir, name)
	assert.NilError(t, err)
	return &tls.ConnectionState{PeerCertificates: []*x509.Certificate{c.Certificates[0].Leaf}}
}

// TestVerify: each certificate of the PKI gets its verdict, and one
// issued later by the same CA (Issue) is as good as the consumer's.
func TestVerify(t *testing.T) {
	t.Parallel()
	dir := generate(t)
	trust, err := pki.LoadTrust(dir)
	assert.NilError(t, err)
	assert.NilError(t, pki.Issue(dir, "later", "b2001.consumer.spine-sandbox.invalid"))
	for _, tt := range []struct {
		name, reason string
	}{
		{"consumer", ""},
		{"later", ""},
		{"ssp", ""},
		{"bad/expired", "client certificate expired"},
		{"bad/not-yet-valid", "client certificate not yet valid"},
		{"bad/wrong-ca", "client certificate not issued by the Spine CA"},
		{"bad/wrong-cn", ""},
		{"bad/revoked", "client certificate revoked"},
	} {
		_, cerr := trust.Verify(state(t, dir, tt.name), time.Now())
		got := ""
		if cerr != nil {
			got = cerr.Reason
			assert.Equal(t, cerr.Status, pki.StatusCertError, tt.name+" status")
		}
		assert.Equal(t, got, tt.reason, tt.name)
	}
	_, cerr := trust.Verify(nil, time.Now())
	assert.Equal(t, cerr.Status, pki.StatusNoCertificate, "plain HTTP")
	leaf := state(t, dir, "bad/wrong-cn").PeerCertificates[0]
	assert.Equal(t, pki.Matches(leaf, pki.WrongFQDN), true, "wrong-cn names its FQDN")
	assert.Equal(t, pki.Matches(leaf, "a1001.consumer.spine-sandbox.invalid"), false, "wrong-cn is not the consumer")
}

// TestLoadTrustCRLFromAnotherCA: a CRL another CA signed is refused, not
// trusted to revoke (or not) this CA's certificates.
func TestLoadTrustCRLFromAnotherCA(t *testing.T) {
	t.Parallel()
	dir, other := generate(t), generate(t)
	crl, err := os.ReadFile(filepath.Join(other, pki.CRLFile))
	assert.NilError(t, err)
	assert.NilError(t, os.WriteFile(filepath.Join(dir, pki.CRLFile), crl, 0o644))
	_, err = pki.LoadTrust(dir)
	if err == nil || !strings.Contains(err.Error(), "crl.pem is not signed by ca.pem") {
		t.Fatalf("LoadTrust = %v, want the CRL refused", err)
	}
}
