// Package pds is the mock Personal Demographics Service FHIR R4 API
// (pds-sds-fhir.md §2): GET /Patient/{id} retrieves a patient by NHS number
// and GET /Patient searches by demographics, answering from one session's
// world. It mirrors NHS's own PDS sandbox, as captured in the spec's
// examples: the same headers (X-Request-ID mandatory and mirrored,
// X-Correlation-ID mirrored, ETag W/"<versionId>" on retrieve), the same
// OperationOutcome shape (R4 Spine-ErrorOrWarningCode, version "1"), and the
// behaviours a GP Connect consumer has to cope with: restricted (S-flag)
// records without address, telecom or registered GP; superseded numbers that
// answer 200 with the retained record; invalidated numbers that answer 404
// INVALIDATED_RESOURCE; TOO_MANY_MATCHES as a 200 OperationOutcome.
//
// Authorization follows NHS's sandbox, not the live service: no token is
// fine, but a header that is present must be "Bearer <token>", the token
// letters and digits with at least one of each, optionally followed by "_"
// and more letters and digits (pds-sds-fhir.md §2.2; NHS's sandbox refuses
// a letters-only token as "Invalid Access Token"). The mock has no OAuth
// server, so any well-formed token is accepted.
//
// The mock is the one judge of its requests: it runs its named checks
// (Checks: internal/spinerules PDSRules) on every request and reports the
// verdicts through the hook it is handed (WithReport); no other part of the
// sandbox repeats them.
package pds

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"regexp"
	"strings"

	"github.com/spine-sandbox/spine-sandbox/internal/spinerules"
	"github.com/spine-sandbox/spine-sandbox/internal/world"
)

// BasePath is where the sandbox mounts this API, as on real Spine
// (pds-sds-fhir.md §2). New's handler sees paths relative to it.
const BasePath = "/personal-demographics/FHIR/R4"

// mediaFHIRJSON is the only media type PDS answers with (§2.3).
const mediaFHIRJSON = "application/fhir+json"

// Request headers PDS reads and mirrors (§2.2, §2.3).
const (
	headerRequestID     = "X-Request-ID"
	headerCorrelationID = "X-Correlation-ID"
	headerAuthorization = "Authorization"
)

// tokenPattern is the shape of a bearer token NHS's sandbox accepts
// (§2.2); validToken adds its rule of at least one letter and one digit.
var tokenPattern = regexp.MustCompile(`^[A-Za-z0-9]+(_[A-Za-z0-9]+)?$`)

// validToken reports whether NHS's sandbox accepts token.
func validToken(token string) bool {
	main, _, _ := strings.Cut(token, "_")
	return tokenPattern.MatchString(token) &&
		strings.ContainsAny(main, "0123456789") &&
		strings.IndexFunc(main, func(r rune) bool { return r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' }) >= 0
}

type server struct {
	world *world.World
	base  string // public PDS base URL, for entry fullUrl
	// log receives what PDS cannot answer as PDS would: a bug answered
	// with a generic 500, a response it could not write.
	log *slog.Logger
	// report receives the verdicts of the mock's checks (WithReport).
	report spinerules.Report
}

// New returns the PDS FHIR R4 API for one session's world. Paths are
// relative to the PDS base (the server strips BasePath), e.g.
// "/Patient/9000000009".
func New(w *world.World, opts ...Option) http.Handler {
	return http.HandlerFunc(newServer(w, opts...).serveHTTP)
}

func newServer(w *world.World, opts ...Option) *server {
	s := &server{world: w, base: w.BaseURL() + BasePath, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Option configures New.
type Option func(*server)

// WithLogger sends the mock's reports of its own failures (an error it
// answers with a generic 500, a response it could not write) to l; without
// it, or with nil, they are discarded.
func WithLogger(l *slog.Logger) Option {
	return func(s *server) {
		if l != nil {
			s.log = l
		}
	}
}

// handler answers one request, or returns the error to answer with.
type handler func(rw http.ResponseWriter, r *http.Request) error

// route is the whole route table. PDS also has PATCH /Patient/{id},
// POST /Patient, GET /Patient/{id}/RelatedPerson and /Coverage (§2.1); a GP
// Connect consumer needs none of them, so they, and any other method on a
// PDS resource, answer 400 UNSUPPORTED_SERVICE (the spec's code for a
// request PDS does not serve, §2.5). Paths that are not PDS resources at all
// answer 404 RESOURCE_NOT_FOUND. Nothing answers a router's plain-text 404.
func (s *server) route(r *http.Request) (handler, error) {
	path := strings.TrimSuffix(r.URL.Path, "/")
	seg := strings.Split(strings.TrimPrefix(path, "/"), "/")
	switch {
	case path == "/Patient" && r.Method == http.MethodGet:
		if strings.HasSuffix(r.URL.Path, "/") {
			// "GET /Patient/" is a retrieve without an id (§2.5: missing NHS number).
			return nil, pdsErrorf(unsupportedService, "Invalid request with error - NHS number must be supplied to access this resource")
		}
		return s.search, nil // §2.1 search
	case len(seg) == 2 && seg[0] == "Patient" && r.Method == http.MethodGet:
		return func(rw http.ResponseWriter, _ *http.Request) error { return s.retrieve(rw, seg[1]) }, nil // §2.1 retrieve
	case seg[0] == "Patient" || seg[0] == "Coverage":
		return nil, pdsErrorf(unsupportedService, "Invalid request with error - %s %s is not supported by this sandbox", r.Method, r.URL.Path)
	default:
		return nil, pdsErrorf(resourceNotFound, "Invalid request with error - no PDS resource at %s", r.URL.Path)
	}
}

// serveHTTP mirrors the tracing headers, checks the headers every PDS call
// needs, then routes. Every answer, errors included, is FHIR JSON.
func (s *server) serveHTTP(rw http.ResponseWriter, r *http.Request) {
	// §2.3: X-Request-ID and X-Correlation-ID are mirrored on every response,
	// including errors about the header itself.
	for _, h := range []string{headerRequestID, headerCorrelationID} {
		if v := r.Header.Get(h); v != "" {
			rw.Header().Set(h, v)
		}
	}
	rw.Header().Set("Content-Type", mediaFHIRJSON)
	if s.report != nil {
		s.report(r, Checks(r))
	}
	err := checkHeaders(r)
	if err == nil {
		var h handler
		if h, err = s.route(r); err == nil {
			err = h(rw, r)
		}
	}
	if err != nil {
		s.writeError(rw, r, err)
	}
}

// checkHeaders applies §2.2. X-Request-ID is checked before Authorization so
// that a consumer without either learns first about the header every
// environment requires (the sandbox's own capture answers MISSING_VALUE to a
// request without both).
func checkHeaders(r *http.Request) error {
	ids, present := r.Header[http.CanonicalHeaderKey(headerRequestID)]
	switch {
	case !present || ids[0] == "":
		return errMissingRequestID
	case !spinerules.IsUUID(ids[0]):
		// §2.2's pattern: any UUID version, as NHS's own sandbox captures
		// use an upper-case v4-shaped value and the live service only
		// asks for v4 "ideally".
		return errInvalidValue(ids[0], "header 'X-Request-ID'")
	}
	auth, present := r.Header[http.CanonicalHeaderKey(headerAuthorization)]
	if !present || auth[0] == "" {
		return nil // the sandbox serves requests without a token
	}
	// The sandbox reads the header as exactly two words, "Bearer" and the
	// token; anything else is a missing token.
	words := strings.Split(auth[0], " ")
	switch {
	case len(words) != 2 || words[0] != "Bearer":
		return errMissingToken
	case !validToken(words[1]):
		return errInvalidToken
	}
	return nil
}

// writeJSON writes v as the response body with status.
func (s *server) writeJSON(rw http.ResponseWriter, status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	s.writeBody(rw, status, body)
	return nil
}

// writeBody writes body, encoded JSON, as the response body with status.
func (s *server) writeBody(rw http.ResponseWriter, status int, body []byte) {
	rw.WriteHeader(status)
	if _, err := rw.Write(body); err != nil {
		s.log.Warn("pds: writing response", "err", err)
	}
}
