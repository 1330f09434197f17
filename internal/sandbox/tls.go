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

// gateKind says which rule a service's certificate gate applies.
type gateKind int

const (
	gateSpine    gateKind = iota // PDS, SDS, the SSP: any valid certificate
	gateProvider                 // the provider: the SSP's only
)

// certGate wraps a service with the client-certificate check; without
// Config.TLS it is h itself. It runs inside the journal's record, so a
// refusal is a hop with its named check and status.
func (s *Server) certGate(kind gateKind, h http.Handler) http.Handler {
	if s.cfg.TLS == nil {
		return h
	}
	trust := s.cfg.TLS.Trust
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if kind == gateProvider && r.Context().Value(inProcessKey{}) != nil {
			// The SSP's own forward, in process: it carries the SSP's
			// identity in its context, not a certificate.
			h.ServeHTTP(w, r)
			return
		}
		leaf, cerr := trust.Verify(r.TLS, s.cfg.Clock())
		check := CheckClientCertificate
		if cerr == nil && kind == gateProvider && !pki.Matches(leaf, pki.SSPFQDN) {
			check = CheckProviderFromSSP
			cerr = &pki.CertError{Status: http.StatusForbidden,
				Reason: "a provider service root accepts only the SSP's client certificate (" + pki.SSPFQDN + "); send the request through the SSP"}
		}
		if cerr != nil {
			noteCheck(r, journal.Verdict{Check: check, Passed: false, Severity: "error", Section: "gpconnect-1.6.md §1.4, §1.5", Message: cerr.Reason})
			pki.WriteCertError(w, cerr)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// noteCheck adds a verdict to the hop being recorded.
func noteCheck(r *http.Request, v journal.Verdict) {
	vs, ok := r.Context().Value(checksKey{}).(*verdicts)
	if !ok {
		return
	}
	vs.mu.Lock()
	defer vs.mu.Unlock()
	vs.list = append(vs.list, v)
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
