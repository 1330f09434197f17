package sandbox

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"

	"github.com/spine-sandbox/spine-sandbox/internal/journal"
	"github.com/spine-sandbox/spine-sandbox/internal/pki"
)

// TLSConfig is mutual TLS on every Spine leg (gpconnect-1.6.md §1.4;
// serve --tls). The listener itself is the caller's (serve, the public
// package, the runner); the sandbox judges the client certificate each
// request came with.
type TLSConfig struct {
	// Trust verifies client certificates: chained to the CA, not revoked.
	Trust *pki.Trust
	// SSPCertificate is what the SSP presents to providers reached over
	// the network (ssp.pem).
	SSPCertificate tls.Certificate
	// UpstreamRoots verify those providers' certificates: the CA plus
	// --upstream-ca; nil means the CA alone.
	UpstreamRoots *x509.CertPool
}

// The named checks of the sandbox's certificate gate (pki documents them).
const (
	CheckClientCertificate = pki.CheckClientCertificate
	CheckProviderFromSSP   = pki.CheckProviderFromSSP
)

// certRefusal is the client-certificate check (gpconnect-1.6.md §1.4)
// for a request to party to, nil when it passes or Config.TLS is unset.
// record consults it before strict mode and faults: on Spine the TLS layer
// answers before anything reads the request. A refusal is still a journal
// hop, with its named check failed.
func (ss *Session) certRefusal(to journal.Party, r *http.Request) http.HandlerFunc {
	tc := ss.server.cfg.TLS
	if tc == nil {
		return nil
	}
	if to == journal.Provider && inProcessOf(r) != nil {
		// The SSP's own forward, in process: it carries the SSP's
		// identity in its context, not a certificate.
		return nil
	}
	leaf, cerr := tc.Trust.Verify(r.TLS, ss.server.cfg.Clock())
	check := CheckClientCertificate
	if cerr == nil && to == journal.Provider && !pki.Matches(leaf, pki.SSPFQDN) {
		check = CheckProviderFromSSP
		cerr = &pki.CertError{Status: http.StatusForbidden,
			Reason: "a provider service root accepts only the SSP's client certificate (" + pki.SSPFQDN + "); send the request through the SSP"}
	}
	if cerr == nil {
		return nil
	}
	return func(w http.ResponseWriter, r *http.Request) {
		noteCheck(r, journal.Verdict{Check: check, Passed: false, Severity: "error", Section: "gpconnect-1.6.md §1.4, §1.5", Message: cerr.Reason})
		pki.WriteCertError(w, cerr)
	}
}

// noteCheck adds a verdict to the hop being recorded.
func noteCheck(r *http.Request, v journal.Verdict) {
	if st := hopOf(r); st != nil {
		st.report(v)
	}
}

// configureTLS makes the SSP's network transport present ssp.pem and
// verify providers against the CA (and --upstream-ca).
func (s *Server) configureTLS() {
	if s.cfg.TLS == nil {
		return
	}
	roots := s.cfg.TLS.UpstreamRoots
	if roots == nil {
		roots = s.cfg.TLS.Trust.Pool()
	}
	s.network.TLSClientConfig = &tls.Config{
		Certificates: []tls.Certificate{s.cfg.TLS.SSPCertificate},
		RootCAs:      roots,
		MinVersion:   tls.VersionTLS12,
		CipherSuites: pki.SpineCipherSuites,
	}
}

// LoadTLS reads a PKI folder (spine-sandbox certs) for Config.TLS; extra
// are PEM CA files the SSP also trusts for external providers
// (--upstream-ca).
func LoadTLS(dir string, extra ...string) (*TLSConfig, error) {
	trust, err := pki.LoadTrust(dir)
	if err != nil {
		return nil, err
	}
	c, err := pki.ClientConfig(dir, "ssp")
	if err != nil {
		return nil, err
	}
	roots := c.RootCAs
	for _, f := range extra {
		if err := pki.AddPEMFile(roots, f); err != nil {
			return nil, err
		}
	}
	return &TLSConfig{Trust: trust, SSPCertificate: c.Certificates[0], UpstreamRoots: roots}, nil
}
