package webui_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/webui"
)

func get(t *testing.T, srv *httptest.Server, method, path string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	assert.NilError(t, err)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	assert.NilError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	assert.NilError(t, err)
	return res, string(body)
}

// TestAssets: the page and its assets, for the default session ("/") and a
// named one ("/s/{id}/"), with the content types browsers insist on (a
// script served as text/plain is refused under nosniff).
func TestAssets(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(webui.Handler())
	t.Cleanup(srv.Close)
	tests := []struct {
		name, method, path string
		status             int
		contentType        string
		contains           string
	}{
		{"root is the page", "GET", "/", 200, "text/html; charset=utf-8", "<title>spine-sandbox"},
		{"index.html is the page", "GET", "/index.html", 200, "text/html; charset=utf-8", `id="diagram"`},
		{"script", "GET", "/app.js", 200, "text/javascript; charset=utf-8", `addEventListener("hop"`},
		{"stylesheet", "GET", "/app.css", 200, "text/css; charset=utf-8", "--bad:"},
		{"favicon", "GET", "/favicon.svg", 200, "image/svg+xml", "<svg"},
		{"session page", "GET", "/s/training-1/", 200, "text/html; charset=utf-8", `src="app.js"`},
		{"session script", "GET", "/s/training-1/app.js", 200, "text/javascript; charset=utf-8", "EventSource"},
		{"session stylesheet", "GET", "/s/training-1/app.css", 200, "text/css; charset=utf-8", ".arrow"},
		{"HEAD has no body", "HEAD", "/app.css", 200, "text/css; charset=utf-8", ""},
		{"unknown file is a JSON 404", "GET", "/favicon.ico", 404, "application/json", `"error":"no page or service at /favicon.ico"`},
		{"asset deeper than the root is a JSON 404", "GET", "/s/x/deep/app.js", 404, "application/json", `"error"`},
		{"the embedded folder is not served", "GET", "/static/app.js", 404, "application/json", `"error"`},
		{"POST is a JSON 405", "POST", "/", 405, "application/json", `"error":"POST is not allowed on /"`},
		{"DELETE on an asset is a JSON 405", "DELETE", "/app.js", 405, "application/json", `"error"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, body := get(t, srv, tt.method, tt.path)
			assert.Equal(t, res.StatusCode, tt.status, "status")
			assert.Equal(t, res.Header.Get("Content-Type"), tt.contentType, "Content-Type")
			if tt.contains != "" {
				assert.Contains(t, body, tt.contains, "body")
			}
			if tt.method == "HEAD" {
				assert.Equal(t, body, "", "HEAD body")
			}
			if tt.status == 200 {
				assert.Equal(t, res.Header.Get("X-Content-Type-Options"), "nosniff", "X-Content-Type-Options")
				assert.Contains(t, res.Header.Get("Content-Security-Policy"), "script-src 'self'", "CSP")
			}
			if tt.status == 405 {
				assert.Equal(t, res.Header.Get("Allow"), "GET, HEAD", "Allow")
			}
			if tt.status >= 400 {
				var e map[string]string
				assert.NilError(t, json.Unmarshal([]byte(body), &e))
				assert.Equal(t, e["error"] != "", true, "error message present")
			}
		})
	}
}

// TestSessionRootRedirects: "/s/{id}" without its slash would resolve the
// page's relative asset URLs against "/s/", so the browser is sent on.
func TestSessionRootRedirects(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(webui.Handler())
	t.Cleanup(srv.Close)
	tests := []struct{ name, path, location string }{
		{"plain", "/s/abc", "/s/abc/"},
		{"query kept", "/s/abc?session=x", "/s/abc/?session=x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, _ := get(t, srv, "GET", tt.path)
			assert.Equal(t, res.StatusCode, http.StatusMovedPermanently, "status")
			assert.Equal(t, res.Header.Get("Location"), tt.location, "Location")
		})
	}
}

// TestPageStructure checks the page without running its script: the
// controls are real buttons, new hops are announced to screen readers, the
// assets load relative to the page (so "/s/{id}/" works) and nothing is
// inline (the Content-Security-Policy forbids it).
func TestPageStructure(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(webui.Handler())
	t.Cleanup(srv.Close)
	_, page := get(t, srv, "GET", "/")

	for _, want := range []string{
		`<html lang="en">`,
		`<link rel="stylesheet" href="app.css">`,
		`<script src="app.js" defer></script>`,
		`<select id="session" name="session">`,
		`<label for="session">Session</label>`,
		`<button type="button" id="refresh">Refresh sessions</button>`,
		`<button type="button" id="clear">Clear journal</button>`,
		`<button type="button" id="replay" aria-pressed="false">Replay slowly</button>`,
		`<label for="speed">Speed</label>`,
		`id="announce" class="visually-hidden" aria-live="polite"`,
		`<p id="status" role="status">`,
		`<section id="details" aria-labelledby="details-title"`,
		`<div id="lifelines" aria-hidden="true">`,
		`<a class="skip" href="#diagram">`,
	} {
		assert.Contains(t, page, want, "page")
	}
	for _, party := range []string{"Consumer", "PDS", "SDS", "SSP", "Provider"} {
		assert.Contains(t, page, `">`+party+`</span>`, "lifeline label")
	}
	ids := regexp.MustCompile(`\sid="([^"]+)"`).FindAllStringSubmatch(page, -1)
	seen := map[string]bool{}
	for _, m := range ids {
		assert.Equal(t, seen[m[1]], false, "duplicate id "+m[1])
		seen[m[1]] = true
	}
	_, script := get(t, srv, "GET", "/app.js")
	// Every element the script looks up by id must exist on the page.
	for _, m := range regexp.MustCompile(`\$\("([^"]+)"\)`).FindAllStringSubmatch(script, -1) {
		assert.Equal(t, seen[m[1]], true, "page has the element with id "+m[1])
	}
	assert.Equal(t, regexp.MustCompile(`<script>|<script [^>]*>[^<]`).MatchString(page), false, "inline script")
	assert.Equal(t, strings.Contains(page, " style="), false, "inline style attribute")
	assert.Equal(t, regexp.MustCompile(`\son[a-z]+=`).MatchString(page), false, "inline event handler")
	// Request bodies come from consumers: the script must never parse them as markup.
	assert.Equal(t, strings.Contains(script, "innerHTML"), false, "script uses innerHTML")
	for _, want := range []string{`"/_admin/sessions"`, `"/events"`, `"/journal"`, `method: "DELETE"`, `"aria-label"`, `role: "button"`} {
		assert.Contains(t, script, want, "script")
	}
}
