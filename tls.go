package spinesandbox

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/http"
	"time"
)

// WithTLS serves HTTPS with a certificate made for this sandbox alone
// (127.0.0.1 and localhost, valid for a day): the URLs are https://, and
// HTTPClient returns a client that trusts it, as a consumer configured
// with Spine's CA would. (Spine itself wants mutual TLS; the sandbox asks
// for no client certificate.)
func WithTLS() Option { return func(o *options) { o.tls = true } }

// selfSigned makes the certificate WithTLS serves.
func selfSigned() (tls.Certificate, *x509.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "spine-sandbox", Organization: []string{"spine-sandbox (test only)"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, leaf, nil
}

// HTTPClient returns a client for the sandbox's URLs: with WithTLS, one
// that trusts the sandbox's certificate; otherwise a plain client.
func (sb *Sandbox) HTTPClient() *http.Client {
	if sb.cert == nil {
		return &http.Client{}
	}
	pool := x509.NewCertPool()
	pool.AddCert(sb.cert)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: tr}
}

// Certificate is the certificate the sandbox serves with WithTLS (its own
// CA: trust it to reach the sandbox), or nil without.
func (sb *Sandbox) Certificate() *x509.Certificate { return sb.cert }
