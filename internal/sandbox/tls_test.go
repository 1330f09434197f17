package sandbox_test

import (
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/pki"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
	"github.com/spine-sandbox/spine-sandbox/internal/world"
)

// tlsEnv is a sandbox served over mutual TLS (serve --tls) with a fresh
// PKI in dir.
type tlsEnv struct {
	*env
	dir string
}

// makePKI writes the built-in world's test PKI into a temporary folder.
func makePKI(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	_, err := pki.Generate(dir, pki.Options{
		ConsumerFQDN: world.ConsumerFQDN(consumerODS),
		// The provider's certificate also names 127.0.0.1, where the
		// external provider of TestSSPToExternalProviderOverMTLS listens.
		Providers: map[string][]string{practiceODS: {world.ProviderFQDN(practiceODS), "127.0.0.1"}},
	})
	assert.NilError(t, err)
	return dir
}

func startTLS(t testing.TB, cfg sandbox.Config, allow13 bool) *tlsEnv {
	t.Helper()
	return startTLSIn(t, makePKI(t), cfg, allow13)
}

// startTLSIn is startTLS with the PKI in dir, the SSP also trusting
// upstreamCAs for external providers (serve --upstream-ca).
func startTLSIn(t testing.TB, dir string, cfg sandbox.Config, allow13 bool, upstreamCAs ...string) *tlsEnv {
	t.Helper()
	var err error
	cfg.TLS, err = sandbox.LoadTLS(dir, upstreamCAs...)
	assert.NilError(t, err)
	ts := httptest.NewUnstartedServer(nil)
	cfg.PublicURL = "https://" + ts.Listener.Addr().String()
	srv, err := sandbox.New(cfg)
	assert.NilError(t, err)
	t.Cleanup(func() { srv.Close() })
	ts.Config.Handler = srv
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are the tests' point
	ts.TLS, err = pki.ServerConfig(dir, allow13)
	assert.NilError(t, err)
	ts.StartTLS()
	t.Cleanup(ts.Close)
	e := &tlsEnv{env: &env{URL: cfg.PublicURL, Server: srv}, dir: dir}
	e.client = e.clientWith(t, "consumer")
	return e
}

// clientWith is a client trusting the PKI's CA and presenting its
// certificate name ("" for none).
func (e *tlsEnv) clientWith(t testing.TB, name string) *http.Client {
	t.Helper()
	c, err := pki.ClientConfig(e.dir, name)
	assert.NilError(t, err)
	tr := &http.Transport{TLSClientConfig: c}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

func (e *tlsEnv) doWith(t testing.TB, name string, req *http.Request) response {
	t.Helper()
	saved := e.client
	defer func() { e.client = saved }()
	e.client = e.clientWith(t, name)
	return e.do(t, req)
}

// TestClientCertificates: every bad client certificate gets Spine Core's
// status at PDS, SDS and the SSP over a real TLS connection — 496 for
// none, 495 for the rest — with no FHIR body; the consumer's own gets the
// service's answer, and the refusal is a journal hop with its named check
// and the connection's TLS facts.
func TestClientCertificates(t *testing.T) {
	t.Parallel()
	e := startTLS(t, sandbox.Config{}, false)
	ss := e.session(t, "")
	services := map[string]func() *http.Request{
		"pds": func() *http.Request { return pdsGet(t, ss.URLs().PDS+"/Patient/"+nhsBooked) },
		"sds": func() *http.Request {
			return plain(t, "GET", ss.URLs().SDS+"/Endpoint?organization=https://fhir.nhs.uk/Id/ods-organization-code|"+practiceODS+
				"&identifier=https://fhir.nhs.uk/Id/nhsServiceInteractionId|"+string(gpc.ReadMetadata), "")
		},
		"ssp": func() *http.Request { return gpcRequest(t, ss, true, gpc.ReadMetadata, "GET", "/metadata", "") },
	}
	certs := []struct {
		name   string
		status int
		reason string
	}{
		{"", 496, "no client certificate"},
		{"bad/expired", 495, "client certificate expired"},
		{"bad/not-yet-valid", 495, "client certificate not yet valid"},
		{"bad/wrong-ca", 495, "client certificate not issued by the Spine CA"},
		{"bad/revoked", 495, "client certificate revoked"},
		{"consumer", 200, ""},
	}
	for svc, req := range services {
		for _, c := range certs {
			r := e.doWith(t, c.name, req())
			assert.Equal(t, r.status, c.status, svc+" with "+c.name)
			if c.status != 200 {
				assert.Equal(t, string(r.body), fmt.Sprintf("%d %s\n", c.status, c.reason), svc+" body with "+c.name)
				assert.Equal(t, r.header.Get("Content-Type"), "text/plain; charset=utf-8", svc+" content type")
			}
		}
	}
	hops := ss.Journal.Hops()
	first := hops[0]
	assert.Equal(t, first.Status, 496, "first hop")
	if len(first.Checks) != 1 || first.Checks[0].Check != sandbox.CheckClientCertificate || first.Checks[0].Passed {
		t.Fatalf("first hop's checks = %+v, want one failed %s", first.Checks, sandbox.CheckClientCertificate)
	}
	if first.TLS == nil || first.TLS.Version != "TLS 1.2" || first.TLS.ClientSubject != "" {
		t.Fatalf("first hop's TLS = %+v, want TLS 1.2 with no client subject", first.TLS)
	}
	last := hops[len(hops)-1]
	if last.TLS == nil || !strings.Contains(last.TLS.ClientSubject, "CN="+world.ConsumerFQDN(consumerODS)) || !strings.HasPrefix(last.TLS.Cipher, "TLS_ECDHE_ECDSA_WITH_AES_") {
		t.Fatalf("last hop's TLS = %+v, want the consumer's subject and an ECDHE AES-GCM suite", last.TLS)
	}
}

// TestClientCertificateMatchesSender: a valid certificate for another
// system's FQDN passes PDS, but the SSP compares it with the FQDN
// registered for the Ssp-From ASID and refuses with its named check
// (gpconnect-1.6.md §1.4).
func TestClientCertificateMatchesSender(t *testing.T) {
	t.Parallel()
	e := startTLS(t, sandbox.Config{}, false)
	ss := e.session(t, "")
	r := e.doWith(t, "bad/wrong-cn", pdsGet(t, ss.URLs().PDS+"/Patient/"+nhsBooked))
	assert.Equal(t, r.status, 200, "PDS with a valid certificate for another system")
	r = e.doWith(t, "bad/wrong-cn", gpcRequest(t, ss, true, gpc.ReadMetadata, "GET", "/metadata", ""))
	wantStatus(t, r, 403, "CERTIFICATE_CHECK_FAILED_MESSAGESENDER_"+consumerASID)
	hops := ss.Journal.Hops()
	last := hops[len(hops)-1]
	if len(last.Checks) == 0 || last.Checks[0].Check != "SSP_CLIENT_CERT_MATCHES_FROM" {
		t.Fatalf("SSP hop checks = %+v, want SSP_CLIENT_CERT_MATCHES_FROM", last.Checks)
	}
}

// TestProviderOnlyFromSSP: a consumer going straight to a provider service
// root over the listener is refused even with a valid certificate; the
// SSP's own certificate is let in, and the SSP's in-process forward works.
func TestProviderOnlyFromSSP(t *testing.T) {
	t.Parallel()
	e := startTLS(t, sandbox.Config{}, false)
	ss := e.session(t, "")
	r := e.doWith(t, "consumer", gpcRequest(t, ss, false, gpc.ReadMetadata, "GET", "/metadata", ""))
	assert.Equal(t, r.status, 403, "consumer straight to the provider")
	assert.Contains(t, string(r.body), "accepts only the SSP's client certificate", "refusal")
	r = e.doWith(t, "", gpcRequest(t, ss, false, gpc.ReadMetadata, "GET", "/metadata", ""))
	assert.Equal(t, r.status, 496, "no certificate straight to the provider")
	r = e.doWith(t, "ssp", gpcRequest(t, ss, false, gpc.ReadMetadata, "GET", "/metadata", ""))
	assert.Equal(t, r.status, 200, "the SSP's certificate")
	r = e.doWith(t, "consumer", gpcRequest(t, ss, true, gpc.ReadMetadata, "GET", "/metadata", ""))
	assert.Equal(t, r.status, 200, "through the SSP")
}

// TestAdminWithoutCertificate: the admin API and the UI stay reachable
// without a client certificate.
func TestAdminWithoutCertificate(t *testing.T) {
	t.Parallel()
	e := startTLS(t, sandbox.Config{}, false)
	r := e.doWith(t, "", plain(t, "GET", e.URL+"/_admin/health", ""))
	assert.Equal(t, r.status, 200, "health without a certificate")
}

// TestTLSVersions: by default the listener speaks TLS 1.2 only, with
// Spine's ciphers: a TLS 1.1 client and a TLS 1.3-only client fail the
// handshake; allowing 1.3 lets the latter in. A plain HTTP request gets Go's
// clear 400.
func TestTLSVersions(t *testing.T) {
	t.Parallel()
	e := startTLS(t, sandbox.Config{}, false)
	dial := func(e *tlsEnv, min, max uint16) error {
		c, err := pki.ClientConfig(e.dir, "consumer")
		assert.NilError(t, err)
		c.MinVersion, c.MaxVersion = min, max
		conn, err := tls.Dial("tcp", strings.TrimPrefix(e.URL, "https://"), c)
		if err != nil {
			return err
		}
		defer conn.Close()
		return conn.Handshake()
	}
	if err := dial(e, tls.VersionTLS11, tls.VersionTLS11); err == nil {
		t.Fatal("a TLS 1.1 client got a connection")
	}
	if err := dial(e, tls.VersionTLS13, tls.VersionTLS13); err == nil {
		t.Fatal("a TLS 1.3-only client got a connection without --tls-versions 1.2,1.3")
	}
	assert.NilError(t, dial(e, tls.VersionTLS12, tls.VersionTLS12))
	e13 := startTLS(t, sandbox.Config{}, true)
	assert.NilError(t, dial(e13, tls.VersionTLS13, tls.VersionTLS13))

	res, err := http.Get(strings.Replace(e.URL, "https://", "http://", 1) + "/_admin/health")
	assert.NilError(t, err)
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	assert.Equal(t, res.StatusCode, 400, "plain HTTP status")
	assert.Equal(t, string(b), "Client sent an HTTP request to an HTTPS server.\n", "plain HTTP body")
}

// TestSSPToExternalProviderOverMTLS: a practice whose endpoint is another
// listener that requires a client certificate chained to the CA: the SSP
// presents ssp.pem and verifies the provider's certificate.
func TestSSPToExternalProviderOverMTLS(t *testing.T) {
	t.Parallel()
	dir := makePKI(t)
	subjects := make(chan string, 10)
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		subjects <- r.TLS.PeerCertificates[0].Subject.CommonName
		w.Header().Set("Content-Type", "application/fhir+json")
		fmt.Fprint(w, `{"resourceType":"CapabilityStatement"}`)
	}))
	prov, err := pki.ClientConfig(dir, "provider-"+strings.ToLower(practiceODS))
	assert.NilError(t, err)
	trust, err := pki.LoadTrust(dir)
	assert.NilError(t, err)
	up.TLS = &tls.Config{Certificates: prov.Certificates, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: trust.Pool()}
	up.StartTLS()
	t.Cleanup(up.Close)

	e := startTLSIn(t, dir, sandbox.Config{Upstreams: upstreamsOf(t, strings.TrimPrefix(up.URL, "https://"))}, false)
	ss := e.session(t, endpointScenario(up.URL+"/gp"))
	r := e.do(t, gpcRequest(t, ss, true, gpc.ReadMetadata, "GET", "/metadata", ""))
	assert.Equal(t, r.status, 200, "through the SSP to the external provider: "+r.String())
	assert.Equal(t, len(subjects), 1, "requests the provider got")
	assert.Equal(t, <-subjects, pki.SSPFQDN, "the client certificate the provider saw")
}

// TestCertificateBeforeStrict: on Spine the TLS layer answers before
// anything reads the request, so a request strict mode would refuse itself
// (SDS parameters: a blank organization, answered by the sandbox) and that
// has no certificate gets 496; with a certificate, strict mode's 400.
func TestCertificateBeforeStrict(t *testing.T) {
	t.Parallel()
	e := startTLS(t, sandbox.Config{}, false)
	ss := e.session(t, "")
	req := sdsRequest(endpointQuery(""), goodID)
	assert.Equal(t, e.doWith(t, "", req(t, e.env, ss)).status, 496, "no certificate and a strict-mode refusal")
	assert.Equal(t, e.doWith(t, "consumer", req(t, e.env, ss)).status, 400, "a certificate and a strict-mode refusal")
}

// TestUpstreamCA: an external provider whose certificate another CA
// issued is unreachable (502) until that CA is given as an upstream CA
// (serve --upstream-ca); the provider still sees the SSP's certificate.
func TestUpstreamCA(t *testing.T) {
	t.Parallel()
	dir, other := makePKI(t), makePKI(t)
	prov, err := pki.ClientConfig(other, "provider-"+strings.ToLower(practiceODS))
	assert.NilError(t, err)
	trust, err := pki.LoadTrust(dir)
	assert.NilError(t, err)
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		fmt.Fprint(w, `{"resourceType":"CapabilityStatement"}`)
	}))
	up.TLS = &tls.Config{Certificates: prov.Certificates, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: trust.Pool()}
	up.Config.ErrorLog = log.New(io.Discard, "", 0)
	up.StartTLS()
	t.Cleanup(up.Close)
	for _, tt := range []struct {
		extra  []string
		status int
	}{{nil, 502}, {[]string{filepath.Join(other, pki.CAFile)}, 200}} {
		e := startTLSIn(t, dir, sandbox.Config{Upstreams: upstreamsOf(t, strings.TrimPrefix(up.URL, "https://"))}, false, tt.extra...)
		ss := e.session(t, endpointScenario(up.URL+"/gp"))
		r := e.do(t, gpcRequest(t, ss, true, gpc.ReadMetadata, "GET", "/metadata", ""))
		assert.Equal(t, r.status, tt.status, fmt.Sprintf("upstream CAs %q: %s", tt.extra, r))
	}
}
