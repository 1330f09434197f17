package sandbox_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
)

// upstreamServer is a provider outside the sandbox on 127.0.0.1 that
// counts the requests it gets.
func upstreamServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", "application/fhir+json")
		fmt.Fprint(w, `{"resourceType":"Bundle","type":"searchset","total":0}`)
	}))
	t.Cleanup(ts.Close)
	return ts, &n
}

// endpointScenario is the built-in consumer and patients with practice
// A20047 (same ASID as the built-in one) registered at endpoint, and a
// Y12345 for the built-in patient registered there.
func endpointScenario(endpoint string) string {
	return "name: upstream\nextends: builtin\npractices:\n  - ods: A20047\n    name: Elsewhere\n    asid: \"918999198993\"\n" +
		"    party_key: A20047-000001\n    endpoint: " + endpoint + "\n" +
		"  - ods: Y12345\n    name: Other\n    asid: \"200000000116\"\n    party_key: Y12345-000001\n"
}

func upstreamsOf(t *testing.T, list ...string) []sandbox.Upstream {
	t.Helper()
	var out []sandbox.Upstream
	for _, s := range list {
		u, err := sandbox.ParseUpstream(s)
		assert.NilError(t, err)
		out = append(out, u)
	}
	return out
}

// TestNeverAnOpenProxy: a scenario whose practice endpoint is not the
// session's own provider nor an allowed upstream is refused when the
// session is created (422, file:line:column on the endpoint key, saying how
// to allow it), and nothing is ever sent there; an allowed upstream is
// forwarded to. Before the allowlist every one of these was forwarded.
func TestNeverAnOpenProxy(t *testing.T) {
	t.Parallel()
	up, hits := upstreamServer(t)
	upHost := strings.TrimPrefix(up.URL, "http://")
	tests := []struct {
		name      string
		upstreams []string
		endpoint  func(e *env) string
		status    int
		want      string
	}{
		{"loopback port not allowed", nil, func(*env) string { return up.URL + "/gp" }, 422, "start the sandbox with --upstream " + upHost},
		{"another port on an allowed host", []string{"127.0.0.1:1"}, func(*env) string { return up.URL + "/gp" }, 422, "--upstream " + upHost},
		{"cloud metadata", nil, func(*env) string { return "http://169.254.169.254/latest/meta-data" }, 422, "cloud metadata address, which the SSP never forwards to"},
		{"cloud metadata under an allowed CIDR", []string{"0.0.0.0/0"}, func(*env) string { return "http://169.254.169.254/latest/meta-data" }, 422, "never forwards to"},
		{"link-local IPv6", []string{"::/0"}, func(*env) string { return "http://[fe80::1]/gp" }, 422, "link-local address"},
		{"IPv4-mapped metadata", []string{"::/0"}, func(*env) string { return "http://[::ffff:169.254.169.254]/gp" }, 422, "cloud metadata"},
		{"unspecified", []string{"0.0.0.0/0"}, func(*env) string { return "http://0.0.0.0:4000/gp" }, 422, "unspecified address"},
		{"a name under a CIDR", []string{"127.0.0.0/8"}, func(*env) string { return "http://localhost:1/gp" }, 422, "an allowed CIDR covers IP addresses, not names"},
		{"the sandbox's admin API", nil, func(e *env) string { return e.URL + "/_admin/sessions" }, 422, "forwards only to this session's provider"},
		{"the sandbox's admin API, dot segments", nil, func(e *env) string { return e.URL + "/s/x/provider/../../../_admin" }, 422, "forwards only to this session's provider"},
		{"the admin API by another name for the sandbox", []string{"127.0.0.0/8"}, func(e *env) string {
			return strings.Replace(e.URL, "127.0.0.1", "127.0.0.2", 1) + "/_admin/sessions"
		}, 422, "never forwards to a sandbox's admin API"},
		{"another session's provider", nil, func(e *env) string { return e.URL + "/provider/A20047/STU3/1/gpconnect" }, 422, "forwards only to this session's provider"},
		{"an allowed upstream", []string{upHost}, func(*env) string { return up.URL + "/gp" }, 201, ""},
		{"an allowed CIDR", []string{"127.0.0.0/8"}, func(*env) string { return up.URL + "/gp" }, 201, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := start(t, sandbox.Config{Upstreams: upstreamsOf(t, tt.upstreams...)})
			before := len(e.Server.Sessions())
			yaml := endpointScenario(tt.endpoint(e))
			r := e.do(t, plain(t, "POST", e.URL+"/_admin/sessions", yaml))
			assert.Equal(t, r.status, tt.status, "status: "+r.String())
			if tt.status != 422 {
				return
			}
			var b struct {
				Problems []struct {
					File         string
					Line, Column int
					Message      string
				}
			}
			assert.NilError(t, json.Unmarshal(r.body, &b))
			if len(b.Problems) != 1 {
				t.Fatalf("want one problem, got %s", r)
			}
			p := b.Problems[0]
			assert.Equal(t, fmt.Sprintf("%d:%d", p.Line, p.Column), "8:15", "position of the endpoint value")
			assert.Contains(t, p.Message, "practices: endpoint ", "message")
			assert.Contains(t, p.Message, tt.want, "message")
			assert.Equal(t, len(e.Server.Sessions()), before, "sessions")
		})
	}
	assert.Equal(t, hits.Load(), int64(0), "requests that reached the upstream while creating sessions")

	// An allowed upstream is forwarded to, through the SSP.
	e := start(t, sandbox.Config{Upstreams: upstreamsOf(t, upHost)})
	ss := e.session(t, endpointScenario(up.URL+"/gp"))
	r := e.do(t, gpcRequest(t, ss, true, gpc.SearchSlots, "GET", slotQuery(ss), ""))
	assert.Equal(t, r.status, 200, "forwarded to an allowed upstream: "+r.String())
	assert.Equal(t, hits.Load(), int64(1), "requests that reached the upstream")
}

// TestScenarioFileEndpointRefused: serve's default scenario is held to the
// same rule (sandbox.New fails, naming the file and line).
func TestScenarioFileEndpointRefused(t *testing.T) {
	t.Parallel()
	_, err := sandbox.New(sandbox.Config{PublicURL: "http://127.0.0.1:4000", Default: mustLoad(t, endpointScenario("http://10.1.2.3:8080/gp"))})
	if err == nil {
		t.Fatal("sandbox.New accepted an endpoint that is not an allowed upstream")
	}
	assert.Contains(t, err.Error(), "test.yaml:8:15: practices: endpoint \"http://10.1.2.3:8080/gp\"", "error")
	_, err = sandbox.New(sandbox.Config{PublicURL: "http://127.0.0.1:4000", Upstreams: upstreamsOf(t, "10.0.0.0/8"), Default: mustLoad(t, endpointScenario("http://10.1.2.3:8080/gp"))})
	assert.NilError(t, err)
}

func TestParseUpstream(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, err string
	}{
		{"provider.example", ""},
		{"provider.example:8443", ""},
		{"10.0.0.5", ""},
		{"10.0.0.5:8080", ""},
		{"[fd00::5]:8080", ""},
		{"fd00::5", ""},
		{"10.0.0.0/8", ""},
		{"fd00::/8", ""},
		{"", "empty"},
		{"provider.example:0", "the port must be 1–65535"},
		{"provider.example:http", "the port must be 1–65535"},
		{"10.0.0.0/33", "not a CIDR"},
		{"http://provider.example", "a host, not a URL"},
		{"pro vider", "not a host name"},
		{"169.254.169.254", "cloud metadata address"},
		{"[fe80::1]:80", "link-local address"},
		{"0.0.0.0", "unspecified address"},
	}
	for _, tt := range tests {
		u, err := sandbox.ParseUpstream(tt.in)
		if tt.err == "" {
			assert.NilError(t, err)
			assert.Equal(t, u.String(), tt.in, "String")
			continue
		}
		if err == nil {
			t.Errorf("ParseUpstream(%q) accepted", tt.in)
			continue
		}
		assert.Contains(t, err.Error(), tt.err, "error for "+tt.in)
	}
}

func mustLoad(t *testing.T, yaml string) *scenario.Scenario {
	t.Helper()
	sc, err := scenario.Load("test.yaml", []byte(yaml))
	assert.NilError(t, err)
	return sc
}
