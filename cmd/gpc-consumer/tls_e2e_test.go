package main

import (
	"bytes"
	"crypto/tls"
	"net"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/pki"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
	"github.com/spine-sandbox/spine-sandbox/internal/world"
	"github.com/spine-sandbox/spine-sandbox/mocks/sdsldap"
)

// startTLSSandbox serves the built-in world as `serve --tls DIR` does
// (the sandbox's certificate checks and the listener's Spine TLS 1.2
// configuration, from a PKI like `spine-sandbox certs` writes) and returns
// the PKI folder and the base URL.
func startTLSSandbox(t *testing.T) (dir, base string) {
	dir, base, _ = startTLSSandboxServer(t)
	return dir, base
}

func startTLSSandboxServer(t *testing.T) (dir, base string, srv *sandbox.Server) {
	t.Helper()
	dir = t.TempDir()
	_, err := pki.Generate(dir, pki.Options{ConsumerFQDN: world.ConsumerFQDN("A1001")})
	assert.NilError(t, err)
	cfg := sandbox.Config{}
	cfg.TLS, err = sandbox.LoadTLS(dir)
	assert.NilError(t, err)
	ts := httptest.NewUnstartedServer(nil)
	cfg.PublicURL = "https://" + ts.Listener.Addr().String()
	srv, err = sandbox.New(cfg)
	assert.NilError(t, err)
	t.Cleanup(func() { srv.Close() })
	ts.Config.Handler = srv
	ts.TLS, err = pki.ServerConfig(dir, false)
	assert.NilError(t, err)
	ts.StartTLS()
	t.Cleanup(ts.Close)
	return dir, cfg.PublicURL, srv
}

// TestMainBooksOverLDAPS: with SDS over LDAPS (serve --tls's directory:
// the same server certificate, a client certificate required at the
// handshake) gpc-consumer book --sds ldaps://... --cert ... books. (The
// directory's refusal of a client without a certificate is
// cmd/spine-sandbox's TestServeTLSWithCurl.)
func TestMainBooksOverLDAPS(t *testing.T) {
	t.Parallel()
	dir, base, srv := startTLSSandboxServer(t)
	conf, err := pki.ServerConfig(dir, false)
	assert.NilError(t, err)
	trust, err := pki.LoadTrust(dir)
	assert.NilError(t, err)
	conf.ClientAuth, conf.ClientCAs = tls.RequireAndVerifyClientCert, trust.Pool()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NilError(t, err)
	ldapDir := srv.NewLDAP(sdsldap.Config{TLS: conf})
	done := make(chan error, 1)
	go func() { done <- ldapDir.Serve(ln) }()
	t.Cleanup(func() {
		_ = ldapDir.Close()
		<-done
	})
	ss, _ := srv.Session(sandbox.DefaultSession)
	sds := strings.Replace(ss.LDAPURL(ln.Addr().String()), "ldap://", "ldaps://", 1)
	args := func(cert ...string) []string {
		a := []string{"book", "--nhs-number", "9693632109", "--pds", base + "/personal-demographics/FHIR/R4", "--sds", sds, "--ssp", base + "/ssp/",
			"--ca", filepath.Join(dir, "ca.pem")}
		for _, c := range cert {
			a = append(a, "--cert", filepath.Join(dir, c+".pem"), "--key", filepath.Join(dir, c+"-key.pem"))
		}
		return a
	}
	var out, errb bytes.Buffer
	assert.Equal(t, Main(args("consumer"), env(nil), &out, &errb), 0, "exit code; stderr: "+errb.String())
	assert.Contains(t, out.String(), "booked appointment ", "result")
	assert.Contains(t, out.String(), "(objectClass=nhsMhs)", "SDS over LDAPS")
}

// TestMainBooksOverMutualTLS: gpc-consumer book --cert --key --ca books
// through PDS, SDS and the SSP over mutual TLS; with the expired
// certificate PDS answers 495 and the consumer exits 1 saying so.
func TestMainBooksOverMutualTLS(t *testing.T) {
	t.Parallel()
	dir, base := startTLSSandbox(t)
	args := func(cert string) []string {
		return []string{"book", "-v", "--nhs-number", "9693632109", // -v: full URLs, to see https
			"--pds", base + "/personal-demographics/FHIR/R4", "--sds", base + "/spine-directory/FHIR/R4", "--ssp", base + "/ssp/",
			"--cert", filepath.Join(dir, cert+".pem"), "--key", filepath.Join(dir, cert+"-key.pem"), "--ca", filepath.Join(dir, "ca.pem")}
	}
	var out, errb bytes.Buffer
	code := Main(args("consumer"), env(nil), &out, &errb)
	assert.Equal(t, code, 0, "exit code; stderr: "+errb.String())
	assert.Contains(t, out.String(), "booked appointment ", "result")
	assert.Contains(t, out.String(), "6a     ssp  POST "+base+"/ssp/", "booked through the SSP")

	out.Reset()
	errb.Reset()
	code = Main(args("bad/expired"), env(nil), &out, &errb)
	assert.Equal(t, code, 1, "exit code with an expired certificate")
	if !strings.Contains(errb.String(), "HTTP 495") {
		t.Fatalf("stderr = %q, want PDS's 495", errb.String())
	}
}
