// Package webui serves the sandbox's live sequence diagram: one HTML page,
// one script and one stylesheet, embedded in the binary so that a single
// file (or container image) carries the whole sandbox with no build step.
//
// The page reads the admin API (GET /_admin/sessions, the server-sent events
// of /_admin/sessions/{id}/events, DELETE /_admin/sessions/{id}/journal) and
// draws the hops of one session — the arrows of GP Connect 1.6's booking
// sequence — as SVG it builds itself. See README.md for why there is no
// diagram library.
package webui

import (
	"embed"
	"encoding/json"
	"net/http"
	"strings"
)

//go:embed static/index.html static/app.js static/app.css static/favicon.svg
var static embed.FS

// asset is one embedded file and the Content-Type it is served with.
type asset struct {
	file        string
	contentType string
}

// assets maps the path below the UI's root to the file it serves. Anything
// else is a JSON 404, like the rest of the sandbox, never a plain-text page.
var assets = map[string]asset{
	"/":            {"static/index.html", "text/html; charset=utf-8"},
	"/index.html":  {"static/index.html", "text/html; charset=utf-8"},
	"/app.js":      {"static/app.js", "text/javascript; charset=utf-8"},
	"/app.css":     {"static/app.css", "text/css; charset=utf-8"},
	"/favicon.svg": {"static/favicon.svg", "image/svg+xml"},
}

// contentSecurityPolicy keeps the page to its own script, style and admin
// API: the diagram shows request bodies a consumer sent, and those must never
// be able to run as markup (the script only ever sets textContent).
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// Handler returns the handler for "/" and the page's assets. The sandbox
// hands it the full request path, so it answers both for the default
// session ("/", "/app.js") and for a named one ("/s/{id}/", "/s/{id}/app.js");
// the page itself works out the session from its own address.
func Handler() http.Handler {
	return http.HandlerFunc(serve)
}

func serve(w http.ResponseWriter, r *http.Request) {
	rest := r.URL.Path
	if after, ok := strings.CutPrefix(rest, "/s/"); ok {
		id, tail, found := strings.Cut(after, "/")
		if !found {
			// "/s/{id}" without the slash would resolve the page's relative
			// asset URLs against "/s/"; send the browser to the folder.
			target := "/s/" + id + "/"
			if r.URL.RawQuery != "" {
				target += "?" + r.URL.RawQuery
			}
			http.Redirect(w, r, target, http.StatusMovedPermanently)
			return
		}
		rest = "/" + tail
	}
	a, ok := assets[rest]
	if !ok {
		writeError(w, http.StatusNotFound, "no page or service at "+r.URL.Path)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, r.Method+" is not allowed on "+r.URL.Path)
		return
	}
	body, err := static.ReadFile(a.file)
	if err != nil { // cannot happen: the files are embedded at build time
		writeError(w, http.StatusInternalServerError, "asset missing: "+a.file)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(body)
	}
}

// writeError answers in the admin API's JSON error shape.
func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
