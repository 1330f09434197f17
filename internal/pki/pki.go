// Package pki is the sandbox's throw-away test PKI (issue 11): it writes a
// CA, its CRL, the sandbox's server certificate, the consumer's, the SSP's
// and each provider's client certificates, and a set of bad certificates
// (`spine-sandbox certs`), and it loads them back to verify client
// certificates as Spine does (gpconnect-1.6.md §1.4: mutual TLS on every
// leg, chained to the Spine CA and not revoked).
//
// Keys are ECDSA P-256: fast to make in tests, and accepted by every TLS
// 1.2 client the sandbox meets. Spine's own certificates are RSA; nothing
// the sandbox checks depends on the key type.
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The file names under the PKI folder, as the issue lists them.
const (
	CAFile        = "ca.pem"
	CAKeyFile     = "ca-key.pem"
	CRLFile       = "crl.pem"
	ServerFile    = "server.pem"
	ServerKeyFile = "server-key.pem"
	ConsumerFile  = "consumer.pem"
	ConsumerKey   = "consumer-key.pem"
	SSPFile       = "ssp.pem"
	SSPKeyFile    = "ssp-key.pem"
	BadDir        = "bad"
)

// SSPFQDN is the CN of the SSP's client certificate towards providers: a
// provider's service root accepts a request over the network only from it.
const SSPFQDN = "ssp.spine-sandbox.invalid"

// WrongFQDN is the CN of bad/wrong-cn.pem: a valid certificate, for a
// system other than the consumer.
const WrongFQDN = "x9999.consumer.spine-sandbox.invalid"

// Bad are the names of the bad client certificates under bad/: each is
// the consumer's certificate with one thing wrong.
var Bad = []string{"expired", "not-yet-valid", "wrong-ca", "wrong-cn", "revoked"}

// Options say what Generate issues.
type Options struct {
	// Hosts are added to the server certificate's SANs besides localhost,
	// 127.0.0.1 and ::1.
	Hosts []string
	// ConsumerFQDN is the consumer's CN and SAN (the FQDN SDS registers
	// for its ASID).
	ConsumerFQDN string
	// Providers maps a practice's ODS code to its provider's names: its
	// FQDN (the CN) first, then its endpoint's host if that is another;
	// each gets provider-{ods}.pem and provider-{ods}-key.pem.
	Providers map[string][]string
	// Now is the issuing time; zero means time.Now.
	Now time.Time
}

// Generate writes a fresh PKI into dir (made if missing) and returns the
// files written, relative to dir.
func Generate(dir string, o Options) ([]string, error) {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.ConsumerFQDN == "" {
		return nil, errors.New("pki: no consumer FQDN")
	}
	g := &gen{dir: dir, now: o.Now}
	if err := os.MkdirAll(filepath.Join(dir, BadDir), 0o755); err != nil {
		return nil, err
	}
	ca, caKey, err := g.ca("spine-sandbox test CA")
	if err != nil {
		return nil, err
	}
	g.write(CAFile, pemCert(ca.Raw))
	g.writeKey(CAKeyFile, caKey)
	valid := [2]time.Time{o.Now.Add(-time.Hour), o.Now.AddDate(1, 0, 0)}

	hosts := append([]string{"localhost", "127.0.0.1", "::1"}, o.Hosts...)
	g.leaf("server", "spine-sandbox", hosts, valid, ca, caKey)
	g.leaf("consumer", o.ConsumerFQDN, []string{o.ConsumerFQDN}, valid, ca, caKey)
	g.leaf("ssp", SSPFQDN, []string{SSPFQDN}, valid, ca, caKey)
	for ods, names := range o.Providers {
		if len(names) > 0 {
			g.leaf("provider-"+strings.ToLower(ods), names[0], names, valid, ca, caKey)
		}
	}

	bad := func(name string) string { return filepath.Join(BadDir, name) }
	g.leaf(bad("expired"), o.ConsumerFQDN, []string{o.ConsumerFQDN}, [2]time.Time{o.Now.AddDate(-1, 0, 0), o.Now.Add(-time.Hour)}, ca, caKey)
	g.leaf(bad("not-yet-valid"), o.ConsumerFQDN, []string{o.ConsumerFQDN}, [2]time.Time{o.Now.Add(24 * time.Hour), o.Now.AddDate(1, 0, 0)}, ca, caKey)
	other, otherKey, err := g.ca("another CA (not Spine's)")
	if err != nil {
		return nil, err
	}
	g.leaf(bad("wrong-ca"), o.ConsumerFQDN, []string{o.ConsumerFQDN}, valid, other, otherKey)
	g.leaf(bad("wrong-cn"), WrongFQDN, []string{WrongFQDN}, valid, ca, caKey)
	revoked := g.leaf(bad("revoked"), o.ConsumerFQDN, []string{o.ConsumerFQDN}, valid, ca, caKey)

	if g.err == nil {
		crl, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
			Number:     big.NewInt(1),
			ThisUpdate: o.Now.Add(-time.Hour),
			NextUpdate: o.Now.AddDate(1, 0, 0),
			RevokedCertificateEntries: []x509.RevocationListEntry{{
				SerialNumber: revoked.SerialNumber, RevocationTime: o.Now.Add(-time.Minute),
			}},
		}, ca, caKey)
		if err != nil {
			return nil, err
		}
		g.write(CRLFile, pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: crl}))
	}
	return g.files, g.err
}

// gen writes files, keeping the first error.
type gen struct {
	dir   string
	now   time.Time
	files []string
	err   error
}

func (g *gen) write(name string, data []byte) {
	if g.err != nil {
		return
	}
	mode := os.FileMode(0o644)
	if strings.HasSuffix(name, "-key.pem") {
		mode = 0o600
	}
	g.err = os.WriteFile(filepath.Join(g.dir, name), data, mode)
	g.files = append(g.files, name)
}

func (g *gen) writeKey(name string, key *ecdsa.PrivateKey) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil && g.err == nil {
		g.err = err
	}
	g.write(name, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func (g *gen) ca(cn string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"spine-sandbox (test only)"}},
		NotBefore:             g.now.Add(-time.Hour),
		NotAfter:              g.now.AddDate(5, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, err
	}
	c, err := x509.ParseCertificate(der)
	return c, key, err
}

// leaf issues NAME.pem and NAME-key.pem: CN cn, SANs sans (IP addresses
// as IP SANs), usable for both TLS client and server authentication.
func (g *gen) leaf(name, cn string, sans []string, valid [2]time.Time, ca *x509.Certificate, caKey crypto.Signer) *x509.Certificate {
	if g.err != nil {
		return nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		g.err = err
		return nil
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"spine-sandbox (test only)"}},
		NotBefore:    valid[0],
		NotAfter:     valid[1],
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	for _, s := range sans {
		if ip := net.ParseIP(s); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, s)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		g.err = err
		return nil
	}
	g.write(name+".pem", pemCert(der))
	g.writeKey(name+"-key.pem", key)
	c, err := x509.ParseCertificate(der)
	if err != nil && g.err == nil {
		g.err = err
	}
	return c
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	if err != nil {
		panic(fmt.Sprintf("pki: crypto/rand: %v", err)) // crypto/rand does not fail (Go 1.24+)
	}
	return n
}

// Issue adds NAME.pem and NAME-key.pem to the PKI in dir: a valid client
// and server certificate for cn, signed by dir's CA (ca-key.pem). The
// runner issues one per consumer FQDN its scenarios register.
func Issue(dir, name, cn string) error {
	ca, err := readCert(filepath.Join(dir, CAFile))
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(filepath.Join(dir, CAKeyFile))
	if err != nil {
		return err
	}
	b, _ := pem.Decode(raw)
	if b == nil {
		return fmt.Errorf("%s: no PEM key", CAKeyFile)
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return err
	}
	key, ok := k.(crypto.Signer)
	if !ok {
		return fmt.Errorf("%s: not a signing key", CAKeyFile)
	}
	g := &gen{dir: dir, now: time.Now()}
	g.leaf(name, cn, []string{cn}, [2]time.Time{g.now.Add(-time.Hour), g.now.AddDate(1, 0, 0)}, ca, key)
	return g.err
}
