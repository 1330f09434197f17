package consumer_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/consumer"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
	"github.com/spine-sandbox/spine-sandbox/internal/world"
	"github.com/spine-sandbox/spine-sandbox/mocks/sdsldap"
)

// pki is a throwaway CA with a server certificate for 127.0.0.1 and a
// client certificate, the client's written as PEM files for TLSClient.
type pki struct {
	pool                      *x509.CertPool
	server                    tls.Certificate
	certFile, keyFile, caFile string
}

func newPKI(t *testing.T) pki {
	t.Helper()
	dir := t.TempDir()
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		assert.NilError(t, err)
		return k
	}
	caKey := key()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	assert.NilError(t, err)
	ca, err := x509.ParseCertificate(caDER)
	assert.NilError(t, err)
	issue := func(serial int64, usage x509.ExtKeyUsage, ips []net.IP) ([]byte, *ecdsa.PrivateKey) {
		k := key()
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "test"}, NotBefore: time.Now().Add(-time.Hour),
			NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: ips, KeyUsage: x509.KeyUsageDigitalSignature}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		assert.NilError(t, err)
		return der, k
	}
	write := func(name, kind string, der []byte) string {
		p := filepath.Join(dir, name)
		assert.NilError(t, os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600))
		return p
	}
	p := pki{pool: x509.NewCertPool()}
	p.pool.AddCert(ca)
	srvDER, srvKey := issue(2, x509.ExtKeyUsageServerAuth, []net.IP{net.IPv4(127, 0, 0, 1)})
	p.server = tls.Certificate{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}
	cliDER, cliKey := issue(3, x509.ExtKeyUsageClientAuth, nil)
	keyDER, err := x509.MarshalECPrivateKey(cliKey)
	assert.NilError(t, err)
	p.certFile, p.keyFile, p.caFile = write("client.pem", "CERTIFICATE", cliDER), write("client.key", "EC PRIVATE KEY", keyDER), write("ca.pem", "CERTIFICATE", caDER)
	return p
}

// TestLDAPSWithMutualTLS: the consumer looks up SDS over ldaps:// with
// its client certificate (TLSClient), as Spine's directory requires
// (gpconnect-1.6.md §1.2a); the directory refuses a client without one.
func TestLDAPSWithMutualTLS(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	data, err := scenario.Default().World(time.Now())
	assert.NilError(t, err)
	w := world.New(data, "http://127.0.0.1:4000", time.Now)
	srv := sdsldap.New(sdsldap.Config{
		Sessions: func(id string) (sdsldap.Directory, bool) { return sdsldap.Directory{World: w}, id == "default" },
		TLS: &tls.Config{Certificates: []tls.Certificate{p.server}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: p.pool,
			MinVersion: tls.VersionTLS12},
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NilError(t, err)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() { assert.NilError(t, srv.Close()); assert.NilError(t, <-done) })

	lookup := func(hc *http.Client) (*consumer.Endpoint, error) {
		cfg := consumer.Config{PDS: "http://pds.invalid", SDS: "ldaps://" + ln.Addr().String(), SSP: "http://ssp.invalid", ASID: "200000000115",
			Identity: identity(), Timeout: 5 * time.Second, Backoff: time.Millisecond, HTTPClient: hc}
		c, err := consumer.New(cfg)
		assert.NilError(t, err)
		return c.NewSession().Endpoint(context.Background(), "A20047", gpc.SearchSlots)
	}
	withCert, err := consumer.TLSClient(p.certFile, p.keyFile, p.caFile)
	assert.NilError(t, err)
	ep, err := lookup(withCert)
	assert.NilError(t, err)
	assert.Equal(t, ep.ASID, "918999198993", "ASID over LDAPS")
	assert.Equal(t, ep.PartyKey, "A20047-821870", "party key over LDAPS")

	noCert, err := consumer.TLSClient("", "", p.caFile)
	assert.NilError(t, err)
	_, err = lookup(noCert)
	if !errors.Is(err, consumer.ErrTransport) {
		t.Fatalf("a client without a certificate: err = %v, want %v", err, consumer.ErrTransport)
	}
}
