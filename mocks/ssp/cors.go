package ssp

import (
	"net/http"
	"slices"
	"strings"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
)

// corsHeaders are the request headers a browser-based consumer may send
// through the SSP: the four Ssp-* headers and the audit JWT (§1.3), and the
// FHIR headers a consumer sets.
var corsHeaders = strings.Join([]string{hTraceID, hFrom, hTo, hInteraction, "Authorization",
	"Accept", "Accept-Encoding", "Content-Type", "If-Match", "Prefer"}, ", ")

// preflight answers an OPTIONS request itself, as Spine's SSP does for a
// CORS preflight (NHS's provider suite, SSP.feature "SSP - CORS"): 200 with
// the allowed origin, the methods the target's FHIR path takes, and the
// headers a consumer may send. It never forwards, so it runs none of the
// message checks (a browser's preflight carries no Ssp-* headers or JWT);
// the target must still be below a registered service root, or it is
// refused as any other target is.
//
// Spine names the methods in Access-Control-Request-Method, which NHS's
// suite reads; the standard Access-Control-Allow-Methods carries the same.
func (s *server) preflight(rw http.ResponseWriter, x *exchange) {
	if f := checkURILength(x); f != nil {
		s.report(x, f)
		writeError(rw, f)
		return
	}
	var path string
	found := false
	for _, p := range s.cfg.World.Practices() {
		root := s.cfg.World.ServiceRoot(p)
		if u, ok := s.matchRoot(x.target, root); ok {
			path = strings.TrimPrefix(u.Path, s.rootURL(root).Path)
			found = true
			break
		}
	}
	if !found {
		f := targetFailure(x)
		s.report(x, f)
		writeError(rw, f)
		return
	}
	s.report(x, nil)
	h := rw.Header()
	origin := x.r.Header.Get("Origin")
	if origin == "" {
		origin = "*"
	}
	methods := strings.Join(pathMethods(path), ", ")
	h.Set("Access-Control-Allow-Origin", origin)
	h.Add("Vary", "Origin")
	h.Set("Access-Control-Allow-Methods", methods)
	h.Set("Access-Control-Request-Method", methods)
	h.Set("Access-Control-Allow-Headers", corsHeaders)
	h.Set("Access-Control-Max-Age", "600")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", "0")
	rw.WriteHeader(http.StatusOK)
}

// report hands the preflight's outcome to Config.Report, once.
func (s *server) report(x *exchange, f *Failure) {
	if s.cfg.Report == nil {
		return
	}
	var fs []Failure
	if f != nil {
		fs = []Failure{*f}
	}
	s.cfg.Report(x.r, fs)
}

// pathMethods are the methods of the interactions whose path is path
// (below the service root), in GET, POST, PUT order; every method the SSP
// allows when no interaction has that path.
func pathMethods(path string) []string {
	if path == "" {
		path = "/"
	}
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut} {
		for _, in := range gpc.Interactions {
			if in.Matches(m, path) && !slices.Contains(out, m) {
				out = append(out, m)
			}
		}
	}
	if len(out) == 0 {
		return []string{http.MethodGet, http.MethodPost, http.MethodPut}
	}
	return out
}
