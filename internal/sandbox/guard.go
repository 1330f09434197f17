package sandbox

import (
	"crypto/sha256"
	"crypto/subtle"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// The admin API creates, runs and deletes sessions, so it is guarded
// against the two clients that should not reach it:
//
//   - anyone on the network, when the sandbox listens beyond loopback:
//     with Config.AdminToken set, every /_admin request but GET
//     /_admin/health carries "Authorization: Bearer <token>" or the
//     AdminCookie the live UI gets when opened as /?token=<token>
//     (EventSource cannot send headers);
//   - a web page in the developer's browser, on every bind: a
//     state-changing request (POST, PUT, PATCH, DELETE) that says it comes
//     from another site (Sec-Fetch-Site, Origin) is refused, and one with a
//     body must say it is JSON or YAML, a type no HTML form can send
//     without a CORS preflight the sandbox never grants.

// AdminCookie is the cookie that carries the admin token for the live UI.
const AdminCookie = "spine_sandbox_admin"

// guard wraps the admin router with the checks above; a refusal is an
// error for the one writer, as a handler's.
func (s *Server) guard(next http.Handler) http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		changes := r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodOptions
		if changes {
			if why := s.crossOrigin(r); why != "" {
				return errorf(http.StatusForbidden, "cross-origin request refused: %s", why)
			}
		}
		if s.cfg.AdminToken != "" && !(r.Method == http.MethodGet && r.URL.Path == "/_admin/health") && !s.authorised(r) {
			return &apiError{status: http.StatusUnauthorized,
				detail: "the admin API needs the sandbox's admin token: send \"Authorization: Bearer <token>\" (or open the live UI as /?token=<token>)",
				header: http.Header{"Www-Authenticate": {`Bearer realm="spine-sandbox admin"`}}}
		}
		if changes && r.ContentLength != 0 && !adminContentType(r.Header.Get("Content-Type")) {
			return errorf(http.StatusUnsupportedMediaType, "send the body as application/json or application/yaml (Content-Type), e.g. curl -H 'Content-Type: application/yaml' --data-binary @scenario.yaml")
		}
		next.ServeHTTP(w, r)
		return nil
	})
}

// crossOrigin says why r comes from another site, or "" when it does not.
// Browsers send Sec-Fetch-Site on every request (same-origin, or none for
// one the user typed); older ones send at least Origin on a POST. Clients
// that are not browsers (curl, the runner, CI scripts) send neither.
func (s *Server) crossOrigin(r *http.Request) string {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return "Sec-Fetch-Site is " + site
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		u, err := url.Parse(origin)
		if err != nil || u.Host == "" || (!strings.EqualFold(u.Host, r.Host) && !strings.EqualFold(u.Host, s.public.Host)) {
			return "Origin " + origin + " is not this sandbox"
		}
	}
	return ""
}

// adminContentType reports whether ct is one the admin API reads.
func adminContentType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	switch mt {
	case "application/json", "application/yaml", "application/x-yaml", "text/yaml":
		return true
	}
	return false
}

// authorised reports whether r carries the admin token, as a bearer token
// or as the UI's cookie.
func (s *Server) authorised(r *http.Request) bool {
	if scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		if s.tokenMatches(strings.TrimSpace(tok)) {
			return true
		}
	}
	if c, err := r.Cookie(AdminCookie); err == nil && s.tokenMatches(c.Value) {
		return true
	}
	return false
}

// tokenMatches compares in constant time; hashing first keeps the token's
// length out of the timing too.
func (s *Server) tokenMatches(got string) bool {
	a, b := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(s.cfg.AdminToken))
	return s.cfg.AdminToken != "" && subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// uiLogin turns the live UI's /?token=<token> (or /s/{id}/?token=) into the
// admin cookie and sends the browser to the same page without the token in
// its address (history, Referer, screenshots). It reports whether it
// answered r. The cookie is HttpOnly (no script reads it) and
// SameSite=Strict (no other site's page sends it).
func (s *Server) uiLogin(w http.ResponseWriter, r *http.Request) bool {
	if s.cfg.AdminToken == "" || s.cfg.UI == nil || r.Method != http.MethodGet || !isUIPage(r.URL.Path) {
		return false
	}
	q := r.URL.Query()
	if !q.Has("token") {
		return false
	}
	if !s.tokenMatches(q.Get("token")) {
		writeJSONError(w, http.StatusUnauthorized, "wrong admin token")
		return true
	}
	http.SetCookie(w, &http.Cookie{
		Name: AdminCookie, Value: s.cfg.AdminToken, Path: "/",
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil || s.public.Scheme == "https",
	})
	q.Del("token")
	target := r.URL.Path
	if enc := q.Encode(); enc != "" {
		target += "?" + enc
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, target, http.StatusSeeOther)
	return true
}

// isUIPage reports whether p is the live UI's page: "/", "/index.html",
// "/s/{id}/" or "/s/{id}/index.html".
func isUIPage(p string) bool {
	if rest, ok := strings.CutPrefix(p, "/s/"); ok {
		_, tail, found := strings.Cut(rest, "/")
		return found && (tail == "" || tail == "index.html")
	}
	return p == "/" || p == "/index.html"
}
