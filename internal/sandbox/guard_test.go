package sandbox_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
	"github.com/spine-sandbox/spine-sandbox/internal/webui"
)

// TestAdminRefusesCrossOrigin: on every bind, a state-changing admin
// request a web page sent from another site is refused (403) before it
// does anything, and one with a body must be JSON or YAML (415) — the
// cross-origin text/plain POST that used to create a session (201) now
// creates none. Same-origin requests from the UI and requests from clients
// that are not browsers (no Origin, no Sec-Fetch-Site) still work.
func TestAdminRefusesCrossOrigin(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Config{})
	const yaml = "name: x\nextends: builtin\n"
	tests := []struct {
		name        string
		method      string
		path        string
		contentType string
		body        string
		header      map[string]string
		status      int
		want        string
	}{
		{"cross-site text/plain POST, as a page's form or fetch sends it", "POST", "/_admin/sessions", "text/plain", yaml,
			map[string]string{"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}, 403, "cross-origin request refused"},
		{"cross-site JSON POST", "POST", "/_admin/sessions", "application/json", `{}`,
			map[string]string{"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}, 403, "Sec-Fetch-Site is cross-site"},
		{"same-site but another origin", "POST", "/_admin/sessions", "application/json", `{}`,
			map[string]string{"Sec-Fetch-Site": "same-site"}, 403, "Sec-Fetch-Site is same-site"},
		{"Origin of another site only (older browsers)", "POST", "/_admin/sessions", "application/json", `{}`,
			map[string]string{"Origin": "http://evil.example"}, 403, "Origin http://evil.example is not this sandbox"},
		{"Origin null (sandboxed iframe, file://)", "POST", "/_admin/sessions", "application/json", `{}`,
			map[string]string{"Origin": "null"}, 403, "Origin null"},
		{"cross-site DELETE", "DELETE", "/_admin/sessions/default", "", "",
			map[string]string{"Sec-Fetch-Site": "cross-site"}, 403, "cross-origin"},
		{"cross-site run", "POST", "/_admin/sessions/default/run", "", "",
			map[string]string{"Sec-Fetch-Site": "cross-site"}, 403, "cross-origin"},
		{"text/plain body without Origin", "POST", "/_admin/sessions", "text/plain", yaml, nil, 415, "application/json or application/yaml"},
		{"form body", "POST", "/_admin/sessions", "application/x-www-form-urlencoded", "scenario=happy-path", nil, 415, "Content-Type"},
		{"no content type with a body", "POST", "/_admin/sessions", "", yaml, nil, 415, "Content-Type"},
		{"same-origin JSON POST from the UI", "POST", "/_admin/sessions", "application/json", `{}`,
			map[string]string{"Origin": "SELF", "Sec-Fetch-Site": "same-origin"}, 201, `"scenario": "builtin"`},
		{"YAML with parameters", "POST", "/_admin/sessions", "application/yaml; charset=utf-8", yaml, nil, 201, `"scenario": "x"`},
		{"application/x-yaml", "POST", "/_admin/sessions", "application/x-yaml", yaml, nil, 201, `"scenario": "x"`},
		{"text/yaml", "POST", "/_admin/sessions", "text/yaml", yaml, nil, 201, `"scenario": "x"`},
		{"an empty body needs no type", "POST", "/_admin/sessions", "", "", nil, 201, `"scenario": "builtin"`},
		{"a typed address bar request (Sec-Fetch-Site none)", "POST", "/_admin/sessions", "", "",
			map[string]string{"Sec-Fetch-Site": "none"}, 201, `"scenario": "builtin"`},
		{"cross-site GET is a read, left to CORS", "GET", "/_admin/health", "", "",
			map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "http://evil.example"}, 200, `"status": "ok"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(e.Server.Sessions())
			req := plain(t, tt.method, e.URL+tt.path, "")
			if tt.body != "" {
				req = plain(t, tt.method, e.URL+tt.path, tt.body)
			}
			req.Header.Del("Content-Type")
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			for k, v := range tt.header {
				req.Header.Set(k, strings.ReplaceAll(v, "SELF", e.URL))
			}
			r := e.do(t, req)
			assert.Equal(t, r.status, tt.status, "status: "+r.String())
			if tt.status >= 400 {
				problemOf(t, r)
			}
			assert.Contains(t, string(r.body), tt.want, "body")
			if tt.status >= 400 {
				assert.Equal(t, len(e.Server.Sessions()), before, "sessions after a refusal")
			}
		})
	}
}

const token = "0123456789abcdef0123456789abcdef"

// TestAdminToken: with a token, every admin request but GET
// /_admin/health needs it, as a bearer token or as the live UI's cookie.
func TestAdminToken(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Config{AdminToken: token, UI: webui.Handler()})
	tests := []struct {
		name          string
		method, path  string
		authorization string
		cookie        string
		status        int
	}{
		{"health needs none", "GET", "/_admin/health", "", "", 200},
		{"list without a token", "GET", "/_admin/sessions", "", "", 401},
		{"list with a wrong token", "GET", "/_admin/sessions", "Bearer nope", "", 401},
		{"list with a token one byte short", "GET", "/_admin/sessions", "Bearer " + token[1:], "", 401},
		{"list with the token in another scheme", "GET", "/_admin/sessions", "Basic " + token, "", 401},
		{"list with the token", "GET", "/_admin/sessions", "Bearer " + token, "", 200},
		{"list with the token, lower-case scheme", "GET", "/_admin/sessions", "bearer " + token, "", 200},
		{"list with the cookie", "GET", "/_admin/sessions", "", token, 200},
		{"list with a wrong cookie", "GET", "/_admin/sessions", "", "nope", 401},
		{"create without a token", "POST", "/_admin/sessions", "", "", 401},
		{"create with the token", "POST", "/_admin/sessions", "Bearer " + token, "", 201},
		{"journal without a token", "GET", "/_admin/sessions/default/journal", "", "", 401},
		{"events without a token", "GET", "/_admin/sessions/default/events", "", "", 401},
		{"delete without a token", "DELETE", "/_admin/sessions/default", "", "", 401},
		{"unknown admin path without a token", "GET", "/_admin/nothing", "", "", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := plain(t, tt.method, e.URL+tt.path, "")
			if tt.authorization != "" {
				req.Header.Set("Authorization", tt.authorization)
			}
			if tt.cookie != "" {
				req.AddCookie(&http.Cookie{Name: sandbox.AdminCookie, Value: tt.cookie})
			}
			r := e.do(t, req)
			assert.Equal(t, r.status, tt.status, "status: "+r.String())
			if tt.status >= 400 {
				problemOf(t, r)
			}
			if tt.status == 401 {
				assert.Equal(t, r.header.Get("WWW-Authenticate"), `Bearer realm="spine-sandbox admin"`, "WWW-Authenticate")
				assert.Contains(t, string(r.body), "admin token", "body")
			}
		})
	}
	// PDS, SDS, the SSP and the provider are not the admin API.
	r := e.do(t, pdsGet(t, e.URL+"/personal-demographics/FHIR/R4/Patient/"+nhsBooked))
	assert.Equal(t, r.status, 200, "PDS without a token: "+r.String())
}

// TestUILogin: the live UI opened as /?token=… gets the token as an
// HttpOnly, SameSite=Strict cookie and is sent to the same page without it;
// its event stream (EventSource sends no headers) then works with the
// cookie alone.
func TestUILogin(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Config{AdminToken: token, UI: webui.Handler()})
	ss := e.session(t, "")
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	tests := []struct {
		name     string
		path     string
		status   int
		location string
	}{
		{"the default session's page", "/?token=" + token, 303, "/"},
		{"a session's page keeps its other parameters", "/s/" + ss.ID + "/?token=" + token + "&follow=1", 303, "/s/" + ss.ID + "/?follow=1"},
		{"index.html", "/index.html?token=" + token, 303, "/index.html"},
		{"a wrong token", "/?token=nope", 401, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := noRedirect.Get(e.URL + tt.path)
			assert.NilError(t, err)
			res.Body.Close()
			assert.Equal(t, res.StatusCode, tt.status, "status")
			assert.Equal(t, res.Header.Get("Location"), tt.location, "Location")
			var c *http.Cookie
			for _, x := range res.Cookies() {
				if x.Name == sandbox.AdminCookie {
					c = x
				}
			}
			if tt.status != 303 {
				if c != nil {
					t.Errorf("cookie set for a wrong token")
				}
				return
			}
			if c == nil {
				t.Fatalf("no %s cookie: %v", sandbox.AdminCookie, res.Header["Set-Cookie"])
			}
			assert.Equal(t, c.Value, token, "cookie value")
			assert.Equal(t, c.HttpOnly, true, "HttpOnly")
			assert.Equal(t, c.SameSite, http.SameSiteStrictMode, "SameSite")
			assert.Equal(t, c.Path, "/", "Path")
		})
	}

	// The page's event stream with the cookie alone.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.URL+"/_admin/sessions/default/events", nil)
	req.AddCookie(&http.Cookie{Name: sandbox.AdminCookie, Value: token})
	res, err := http.DefaultClient.Do(req)
	assert.NilError(t, err)
	defer res.Body.Close()
	assert.Equal(t, res.StatusCode, 200, "events with the cookie")
	assert.Equal(t, res.Header.Get("Content-Type"), "text/event-stream", "Content-Type")
}
