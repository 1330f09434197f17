package sandbox

import (
	"crypto/tls"
	"net/http/httptest"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
)

// TestClientOrigin: the origin URLs are built on, from Host and, only
// when trusted, X-Forwarded-*; a Host that is no host falls back to the
// public URL, so nothing a client sends can put a path, user or second
// URL into a service root.
func TestClientOrigin(t *testing.T) {
	t.Parallel()
	const public = "http://127.0.0.1:4000"
	for _, tt := range []struct {
		name            string
		follow, trusted bool
		host, fwdHost   string
		fwdProto        string
		tls             bool
		want            string
	}{
		{name: "fixed public URL", host: "localhost:9", want: public},
		{name: "host", follow: true, host: "localhost:9", want: "http://localhost:9"},
		{name: "case", follow: true, host: "LocalHost:9", want: "http://localhost:9"},
		{name: "no port", follow: true, host: "spine", want: "http://spine"},
		{name: "IPv6", follow: true, host: "[::1]:9", want: "http://[::1]:9"},
		{name: "TLS", follow: true, host: "spine:443", tls: true, want: "https://spine:443"},
		{name: "forwarded, untrusted", follow: true, host: "spine:4000", fwdHost: "evil.example", fwdProto: "https", want: "http://spine:4000"},
		{name: "forwarded, trusted", follow: true, trusted: true, host: "spine:4000", fwdHost: "sandbox.example.org, proxy2", fwdProto: "https", want: "https://sandbox.example.org"},
		{name: "forwarded proto not http", follow: true, trusted: true, host: "spine:4000", fwdProto: "gopher", want: "http://spine:4000"},
		{name: "empty", follow: true, host: "", want: public},
		{name: "path", follow: true, host: "a/b", want: public},
		{name: "user", follow: true, host: "u@evil", want: public},
		{name: "bad port", follow: true, host: "spine:http", want: public},
		{name: "bare IPv6", follow: true, host: "::1", want: public},
		{name: "zone", follow: true, host: "[fe80::1%25eth0]:9", want: public},
		{name: "forwarded path", follow: true, trusted: true, host: "spine", fwdHost: "evil/x", want: public},
	} {
		s := &Server{cfg: Config{PublicURL: public, FollowClient: tt.follow, TrustForwarded: tt.trusted}}
		r := httptest.NewRequest("GET", "/", nil)
		r.Host = tt.host
		if tt.fwdHost != "" {
			r.Header.Set("X-Forwarded-Host", tt.fwdHost)
		}
		if tt.fwdProto != "" {
			r.Header.Set("X-Forwarded-Proto", tt.fwdProto)
		}
		if tt.tls {
			r.TLS = &tls.ConnectionState{}
		}
		assert.Equal(t, s.clientOrigin(r), tt.want, tt.name)
	}
}
