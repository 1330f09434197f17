package main

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/spine-sandbox/spine-sandbox/internal/pki"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
)

// parseTLSVersions reads --tls-versions: "1.2" (Spine's, the default) or
// "1.2,1.3" for a Spine environment that also offers TLS 1.3.
func parseTLSVersions(v string) (allow13 bool, err error) {
	switch strings.ReplaceAll(v, " ", "") {
	case "", "1.2":
		return false, nil
	case "1.2,1.3", "1.3,1.2":
		return true, nil
	}
	return false, fmt.Errorf("--tls-versions %q: want 1.2 or 1.2,1.3 (Spine is TLS 1.2 only, gpconnect-1.6.md §1.4)", v)
}

// serveTLS is what serve --tls adds: the sandbox's certificate checks
// (sandbox.Config.TLS), the listener's TLS configuration and the LDAP
// directory's (LDAPS with a client certificate required at the handshake:
// LDAP has no 495/496). All nil without --tls.
type serveTLS struct {
	sandbox *sandbox.TLSConfig
	http    *tls.Config
	ldap    *tls.Config
}

func loadServeTLS(c serveConfig) (serveTLS, error) {
	if c.TLSDir == "" {
		return serveTLS{}, nil
	}
	allow13, err := parseTLSVersions(c.TLSVersions)
	if err != nil {
		return serveTLS{}, err
	}
	st := serveTLS{}
	if st.sandbox, err = sandbox.LoadTLS(c.TLSDir, c.UpstreamCAs...); err != nil {
		return serveTLS{}, fmt.Errorf("--tls %s: %w (make one with spine-sandbox certs --out %s)", c.TLSDir, err, c.TLSDir)
	}
	if st.http, err = pki.ServerConfig(c.TLSDir, allow13); err != nil {
		return serveTLS{}, fmt.Errorf("--tls %s: %w", c.TLSDir, err)
	}
	st.ldap = st.http.Clone()
	st.ldap.ClientAuth = tls.RequireAndVerifyClientCert
	st.ldap.ClientCAs = st.sandbox.Trust.Pool()
	st.ldap.VerifyPeerCertificate = nil
	return st, nil
}

// serveHTTP serves hs on ln, over TLS when st has a configuration: Go's
// server then answers a plain HTTP request with 400 "Client sent an HTTP
// request to an HTTPS server."
func (st serveTLS) serveHTTP(hs *http.Server, ln net.Listener) error {
	if st.http == nil {
		return hs.Serve(ln)
	}
	hs.TLSConfig = st.http
	return hs.ServeTLS(ln, "", "")
}
