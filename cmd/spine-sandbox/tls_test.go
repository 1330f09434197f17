package main

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/pki"
)

// makeCerts runs `spine-sandbox certs` into a temporary folder.
func makeCerts(t *testing.T, args ...string) string {
	t.Helper()
	dir := t.TempDir()
	var out, errb bytes.Buffer
	code := Main(append([]string{"certs", "--out", dir}, args...), noenv, &out, &errb)
	assert.Equal(t, code, 0, "certs exit code; stderr: "+errb.String())
	return dir
}

// TestCerts: the PKI has every file the issue lists, the server
// certificate names --host, the consumer's is for the FQDN the built-in
// world registers, and the CRL lists the revoked one.
func TestCerts(t *testing.T) {
	t.Parallel()
	dir := makeCerts(t, "--host", "sandbox.invalid", "--host", "10.0.0.7")
	for _, f := range []string{"ca.pem", "ca-key.pem", "crl.pem", "server.pem", "server-key.pem", "consumer.pem", "consumer-key.pem",
		"ssp.pem", "ssp-key.pem", "provider-a20047.pem", "provider-y12345-key.pem",
		"bad/expired.pem", "bad/not-yet-valid-key.pem", "bad/wrong-ca.pem", "bad/wrong-cn.pem", "bad/revoked.pem"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("certs wrote no %s: %v", f, err)
		}
	}
	server, err := tls.LoadX509KeyPair(filepath.Join(dir, "server.pem"), filepath.Join(dir, "server-key.pem"))
	assert.NilError(t, err)
	leaf := server.Leaf
	assert.DeepEqual(t, leaf.DNSNames, []string{"localhost", "sandbox.invalid"}, "server DNS SANs")
	assert.Equal(t, len(leaf.IPAddresses), 3, "server IP SANs (127.0.0.1, ::1, 10.0.0.7)")
	c, err := pki.ClientConfig(dir, "consumer")
	assert.NilError(t, err)
	assert.Equal(t, c.Certificates[0].Leaf.Subject.CommonName, "a1001.consumer.spine-sandbox.invalid", "consumer CN")
	_, err = pki.LoadTrust(dir)
	assert.NilError(t, err)
	var out, errb bytes.Buffer
	assert.Equal(t, Main([]string{"certs"}, noenv, &out, &errb), 2, "certs without --out")
}

// TestServeTLSWithCurl: serve --tls answered by an independent client,
// Debian's curl: PDS with the consumer's certificate 200, without one 496,
// with the revoked one 495; the admin API without a certificate 200; and
// the LDAP directory speaks LDAPS requiring a certificate.
func TestServeTLSWithCurl(t *testing.T) {
	t.Parallel()
	curl, err := exec.LookPath("curl")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("no curl: .ci/run installs Debian's curl")
		}
		t.Skip("no curl")
	}
	dir := makeCerts(t)
	sv := startServe(t, noenv, "--addr", "127.0.0.1:0", "--tls", dir, "--ldap-addr", "127.0.0.1:0")
	base := "https://" + sv.addr
	assert.Contains(t, sv.out.String(), "PDS       https://", "serve prints https URLs")
	run := func(cert string, url string) string {
		args := []string{"-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", filepath.Join(dir, "ca.pem"),
			"-H", "X-Request-ID: 60e0b220-8136-4ac5-8a8b-6f5c3b9a2e11"}
		if cert != "" {
			args = append(args, "--cert", filepath.Join(dir, cert+".pem"), "--key", filepath.Join(dir, cert+"-key.pem"))
		}
		out, err := exec.Command(curl, append(args, url)...).CombinedOutput()
		assert.NilError(t, err)
		return string(out)
	}
	pds := base + "/personal-demographics/FHIR/R4/Patient/9693632109"
	assert.Equal(t, run("consumer", pds), "200", "curl --cert consumer.pem")
	assert.Equal(t, run("", pds), "496", "curl without a certificate")
	assert.Equal(t, run("bad/revoked", pds), "495", "curl --cert bad/revoked.pem")
	assert.Equal(t, run("", base+"/_admin/health"), "200", "curl the admin API without a certificate")

	ldap := regexp.MustCompile(`ldaps://(127\.0\.0\.1:\d+)/`).FindStringSubmatch(sv.out.String())
	if ldap == nil {
		t.Fatalf("serve --tls printed no ldaps:// address: %s", sv.out.String())
	}
	dial := func(cert string) error {
		c, err := pki.ClientConfig(dir, cert)
		assert.NilError(t, err)
		conn, err := tls.Dial("tcp", ldap[1], c)
		if err != nil {
			return err
		}
		defer conn.Close()
		// TLS 1.2: the server's verdict on the client certificate comes
		// after the client's Finished; read to see it. An accepted client
		// reads nothing (LDAP's client speaks first) until the deadline.
		_ = conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		_, err = conn.Read(make([]byte, 1))
		return err
	}
	if err := dial(""); err == nil || !strings.Contains(err.Error(), "handshake failure") {
		t.Fatalf("LDAPS without a certificate: %v, want a handshake failure", err)
	}
	var ne net.Error
	if err := dial("consumer"); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("LDAPS with the consumer's certificate: %v, want the connection kept open", err)
	}
	assert.Equal(t, sv.exit(t), 0, "serve exit code")
}

// TestParseServeTLS: --tls and SPINE_SANDBOX_TLS, the https:// public URL
// it implies, and the flags' mistakes.
func TestParseServeTLS(t *testing.T) {
	t.Parallel()
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	c, err := parseServe(nil, env(map[string]string{"SPINE_SANDBOX_TLS": "/pki"}), io.Discard)
	assert.NilError(t, err)
	assert.Equal(t, c.TLSDir, "/pki", "SPINE_SANDBOX_TLS")
	assert.Equal(t, c.PublicURL, "https://127.0.0.1:4000", "default public URL with --tls")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--tls", "/pki", "--tls-versions", "1.1"}, `--tls-versions "1.1": want 1.2 or 1.2,1.3`},
		{[]string{"--tls", "/pki", "--public-url", "http://sandbox.test:4000"}, "with --tls the sandbox speaks only HTTPS"},
	} {
		_, err := parseServe(tt.args, noenv, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("parseServe(%q) = %v, want %q", tt.args, err, tt.want)
		}
	}
	c, err = parseServe([]string{"--tls", "/pki", "--tls-versions", "1.2,1.3", "--upstream-ca", "a.pem", "--upstream-ca", "b.pem"}, noenv, io.Discard)
	assert.NilError(t, err)
	assert.DeepEqual(t, c.UpstreamCAs, []string{"a.pem", "b.pem"}, "--upstream-ca")
}
