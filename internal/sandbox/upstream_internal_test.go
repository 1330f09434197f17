package sandbox

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
)

// TestDialGuard: the network transport's Control, run on the resolved
// address before connect(2), refuses link-local, metadata, unspecified,
// multicast and broadcast addresses whatever the operator allowed, and
// anything no entry allows. It is called directly: no test ever connects to
// those addresses.
func TestDialGuard(t *testing.T) {
	t.Parallel()
	parse := func(list ...string) upstreams {
		var us upstreams
		for _, s := range list {
			u, err := ParseUpstream(s)
			assert.NilError(t, err)
			us = append(us, u)
		}
		return us
	}
	all := parse("0.0.0.0/0", "::/0")
	tests := []struct {
		name    string
		us      upstreams
		address string
		byName  bool
		want    string // "" = allowed
	}{
		{"metadata under 0.0.0.0/0", all, "169.254.169.254:80", false, "cloud metadata"},
		{"metadata for an allowed name", all, "169.254.169.254:80", true, "cloud metadata"},
		{"AWS IPv6 metadata", all, "[fd00:ec2::254]:80", false, "cloud metadata"},
		{"Alibaba metadata", parse("100.64.0.0/10"), "100.100.100.200:80", false, "cloud metadata"},
		{"link-local IPv4", all, "169.254.10.1:80", false, "link-local"},
		{"link-local IPv6", all, "[fe80::1]:80", false, "link-local"},
		{"IPv4-mapped metadata", all, "[::ffff:169.254.169.254]:80", false, "cloud metadata"},
		{"NAT64 metadata", all, "[64:ff9b::a9fe:a9fe]:80", false, "cloud metadata"},
		{"unspecified IPv4", all, "0.0.0.0:80", false, "unspecified"},
		{"unspecified IPv6", all, "[::]:80", false, "unspecified"},
		{"multicast", all, "239.1.2.3:80", false, "multicast"},
		{"broadcast", all, "255.255.255.255:80", false, "broadcast"},
		{"nothing allowed", nil, "127.0.0.1:8080", false, "not an allowed upstream"},
		{"another port", parse("127.0.0.1:9090"), "127.0.0.1:8080", false, "not an allowed upstream"},
		{"outside the CIDR", parse("10.0.0.0/8"), "11.0.0.1:80", false, "not an allowed upstream"},
		{"the port allowed", parse("127.0.0.1:8080"), "127.0.0.1:8080", false, ""},
		{"inside the CIDR", parse("10.0.0.0/8"), "10.9.8.7:443", false, ""},
		{"an allowed name resolving to loopback", nil, "127.0.0.1:8080", true, ""},
	}
	for _, tt := range tests {
		err := tt.us.control(tt.address, tt.byName)
		if tt.want == "" {
			assert.NilError(t, err)
			continue
		}
		if err == nil {
			t.Errorf("%s: %s allowed", tt.name, tt.address)
			continue
		}
		assert.Contains(t, err.Error(), tt.want, tt.name)
	}
}

// TestNetworkTransportChecksTheResolvedAddress: the transport judges the
// address a name resolves to, not the name: "localhost" is not listed and
// resolves outside the allowed 127.0.0.2, so nothing is sent, as with a
// name that rebinds after the scenario was accepted. The target is a local
// test server, so a broken guard could only reach that.
func TestNetworkTransportChecksTheResolvedAddress(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	t.Cleanup(ts.Close)
	port := ts.URL[strings.LastIndex(ts.URL, ":")+1:]
	allow := func(s string) upstreams {
		u, err := ParseUpstream(s)
		assert.NilError(t, err)
		return upstreams{u}
	}
	tests := []struct {
		name    string
		us      upstreams
		url     string
		refused bool
	}{
		{"nothing allowed", nil, ts.URL, true},
		{"an unlisted name resolving outside the allowed address", allow("127.0.0.2"), "http://localhost:" + port, true},
		{"the address allowed", allow("127.0.0.1:" + port), ts.URL, false},
		{"the name allowed", allow("localhost:" + port), "http://localhost:" + port, false},
	}
	for _, tt := range tests {
		tr := newNetworkTransport(tt.us)
		before := hits.Load()
		req, _ := http.NewRequest("GET", tt.url+"/x", nil)
		res, err := tr.RoundTrip(req)
		if res != nil {
			res.Body.Close()
		}
		tr.CloseIdleConnections()
		var refused *refusedDial
		assert.Equal(t, errors.As(err, &refused), tt.refused, tt.name+": refused ("+errString(err)+")")
		want := int64(1)
		if tt.refused {
			want = 0
		}
		assert.Equal(t, hits.Load()-before, want, tt.name+": requests that arrived")
	}
}

// TestInProcessOnlyOwnProvider: on the sandbox's own host the SSP's
// transport reaches the forwarding session's provider and nothing else —
// not the admin API (no session is created), not another session. Before,
// any path of the sandbox was served.
func TestInProcessOnlyOwnProvider(t *testing.T) {
	t.Parallel()
	s, ss := sessionABC(t)
	tr := &inProcess{s: s, ss: ss, provider: "/s/abc/provider/"}
	tests := []struct {
		name, method, path string
		refused            bool
	}{
		{"the admin API", "POST", "/_admin/sessions", true},
		{"the admin API by dot segments", "POST", "/s/abc/provider/../../../_admin/sessions", true},
		{"the admin API by encoded dot segments", "POST", "/s/abc/provider/%2e%2e/%2e%2e/%2e%2e/_admin/sessions", true},
		{"the default session's provider", "GET", "/provider/A20047/STU3/1/gpconnect/metadata", true},
		{"another session's provider", "GET", "/s/other/provider/A20047/STU3/1/gpconnect/metadata", true},
		{"the session's own provider", "GET", "/s/abc/provider/A20047/STU3/1/gpconnect/metadata", false},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, "http://sandbox.test:4000"+tt.path, strings.NewReader("{}"))
		req.Header.Set("Content-Type", "application/json")
		res, err := tr.RoundTrip(req)
		if tt.refused {
			assert.Equal(t, errors.Is(err, errNotOwnProvider), true, tt.name+": "+errString(err))
		} else if err != nil || res == nil {
			t.Errorf("%s: %v", tt.name, err)
		}
		if res != nil {
			res.Body.Close()
		}
	}
	assert.Equal(t, len(s.Sessions()), 2, "sessions (the default and abc)")
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// sessionABC is a sandbox at http://sandbox.test:4000 (closed when t ends)
// with session "abc" on the built-in world.
func sessionABC(t *testing.T) (*Server, *Session) {
	t.Helper()
	s, err := New(Config{PublicURL: "http://sandbox.test:4000"})
	assert.NilError(t, err)
	t.Cleanup(func() { s.Close() })
	ss, err := s.CreateSession("abc", scenario.Default())
	assert.NilError(t, err)
	return s, ss
}
