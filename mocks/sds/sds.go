// Package sds is the mock Spine Directory Service FHIR R4 API
// (pds-sds-fhir.md §3): GET /Endpoint answers from the practices' MHS
// records (service root and party key), GET /Device from the AS records of
// the practices and the consumer (ASID). It mirrors what NHS's own SDS
// service does, as captured from its sandbox: the same query parameter rules
// and diagnostics, the same OperationOutcome shape (STU3-era coding system,
// id = correlation id), the same headers (X-Correlation-Id echoed or
// generated, Etag on 200, Allow on 405).
//
// The apikey header is accepted with any value and may be absent. Apigee, in
// front of the real service, answers 401 without one; the service itself
// never looks at it (the NHS sandbox captures were made without Apigee and
// succeed), and a mock has no keys to check, so requiring one would only
// reject consumers that real Spine would route.
//
// The mock is the one judge of its requests: it runs its named checks
// (Checks: internal/spinerules SDSRules) on every request and reports the
// verdicts through the hook it is handed (WithReport); no other part of the
// sandbox repeats them.
package sds

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/spinerules"
	"github.com/spine-sandbox/spine-sandbox/internal/world"
)

// BasePath is where the sandbox mounts this API, as on real Spine
// (pds-sds-fhir.md §3). New's handler sees paths relative to it.
const BasePath = "/spine-directory/FHIR/R4"

// Media types the service answers with (pds-sds-fhir.md §3.3).
const (
	mediaFHIRJSON = "application/fhir+json"
	mediaJSON     = "application/json"
)

// missingOrInvalidHeader is the Spine code for a bad Accept header; the GP
// Connect vocabulary in gpc does not list it because providers never send it.
const missingOrInvalidHeader gpc.Code = "MISSING_OR_INVALID_HEADER"

// displays are the Spine-ErrorOrWarningCode-1 displays of the codes SDS
// answers with (pds-sds-fhir.md §3.5).
var displays = map[gpc.Code]string{
	gpc.BadRequest:          "Bad request",
	gpc.NoRecordFound:       "No record found",
	gpc.NotImplemented:      "Not implemented",
	missingOrInvalidHeader:  "There is a required header missing or invalid",
	gpc.InternalServerError: "Unexpected internal server error",
}

// route answers one search. It validates its own parameters and returns an
// error for anything wrong; writeError turns that into an OperationOutcome.
type route func(rw http.ResponseWriter, r *request) error

// request is an incoming request with its accepted correlation id.
type request struct {
	*http.Request
	correlationID string
}

type server struct {
	// log receives what SDS cannot answer as SDS would: a bug answered
	// with a generic 500.
	log    *slog.Logger
	world  *world.World
	base   string // public SDS base URL, for fullUrl and the self link
	routes map[string]route
	strict bool // Strict: refuse a blank system|value too
	// report receives the verdicts of the mock's checks (WithReport).
	report spinerules.Report
	// direct encodes every answer for its request alone, never from the
	// template's answers (answers.go): what tests compare those with.
	direct bool
}

// An Option changes how New's SDS judges requests.
type Option func(*server)

// Strict refuses a search parameter whose value is blank after its
// system| prefix with the 400 BAD_REQUEST the service gives a missing or
// invalid one of that name (§3.1 wants system|value; the service itself
// ignores a blank optional parameter). The sandbox's strict sessions use
// it; without it the mock answers as the service does.
func Strict() Option { return func(s *server) { s.strict = true } }

// New returns the SDS FHIR R4 API for one session's world. Paths are
// relative to the SDS base (the server strips BasePath), e.g. "/Endpoint".
func New(w *world.World, opts ...Option) http.Handler {
	s := &server{world: w, base: w.BaseURL() + BasePath, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(s)
	}
	s.routes = map[string]route{
		"/Endpoint": s.searchEndpoints, // MHS records: service root, party key (§3.2)
		"/Device":   s.searchDevices,   // AS records: ASID (§3.1)
	}
	return s
}

// ServeHTTP reports its named checks' verdicts (WithReport), then applies
// the checks in the order the real service does: path
// (404), method (405), X-Correlation-Id (400), then the route's own
// parameter and Accept checks.
func (s *server) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v) // net/http's own way to drop the connection
			}
			s.writeError(rw, r, tolerantCorrelationID(r), fmt.Errorf("panic: %v", v))
		}
	}()
	if s.report != nil {
		s.report(r, Checks(r))
	}
	rt, ok := s.routes[r.URL.Path]
	if !ok {
		s.writeError(rw, r, tolerantCorrelationID(r), sdsError(http.StatusNotFound, gpc.NoRecordFound, "not-found", "HTTP endpoint not found"))
		return
	}
	if r.Method != http.MethodGet {
		rw.Header().Set("Allow", http.MethodGet)
		s.writeError(rw, r, tolerantCorrelationID(r), sdsError(http.StatusMethodNotAllowed, gpc.NotImplemented, "not-supported", "HTTP operation not supported"))
		return
	}
	id, err := correlationID(r)
	if err != nil {
		s.writeError(rw, r, id, err)
		return
	}
	if err := rt(rw, &request{Request: r, correlationID: id}); err != nil {
		s.writeError(rw, r, id, err)
	}
}

// uuidPattern is the service's check on X-Correlation-Id (§3.3).
var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// correlationID returns the request's X-Correlation-Id, a new one when it is
// absent or empty, or a 400 (with a new id to answer under) when it is not a
// UUID. Repeated headers are joined as Tornado joins them, so they fail.
func correlationID(r *http.Request) (string, error) {
	v := strings.Join(r.Header.Values("X-Correlation-Id"), ",")
	if v == "" {
		return newUUID(), nil
	}
	if !uuidPattern.MatchString(v) {
		return newUUID(), badRequest("Invalid X-Correlation-ID header. Should be an UUIDv4 matching regex '%s'", uuidPattern.String())
	}
	return v, nil
}

// tolerantCorrelationID is the id an error answer carries when the request
// failed before its correlation id was checked.
func tolerantCorrelationID(r *http.Request) string {
	id, _ := correlationID(r)
	return id
}

// negotiate returns the Content-Type to answer with: the Accept value when
// it is one the service supports, fhir+json for none or */*, else 406
// (§3.3). Like the service it compares the whole header, case-insensitively.
func negotiate(r *http.Request) (string, error) {
	accept := strings.ToLower(strings.TrimSpace(strings.Join(r.Header.Values("Accept"), ",")))
	switch accept {
	case "", "*/*", mediaFHIRJSON:
		return mediaFHIRJSON, nil
	case mediaJSON:
		return mediaJSON, nil
	}
	return "", sdsError(http.StatusNotAcceptable, missingOrInvalidHeader, "not-supported", "Accept type not supported")
}

// sdsError is a typed error with SDS's own status and issue type, which
// differ from GP Connect's defaults for the same codes.
func sdsError(status int, code gpc.Code, issue, diagnostics string) *gpc.Error {
	return &gpc.Error{Status: status, Code: code, Issue: issue, Diagnostics: diagnostics}
}

// badRequest is the service's 400: issue "required", BAD_REQUEST, and the
// reason wrapped as Tornado prints an HTTPError (§3.5).
func badRequest(format string, args ...any) *gpc.Error {
	return sdsError(http.StatusBadRequest, gpc.BadRequest, "required", "HTTP 400: Bad Request ("+fmt.Sprintf(format, args...)+")")
}

// outcome builds the SDS OperationOutcome: id = correlation id, one issue,
// coding system Spine-ErrorOrWarningCode-1 as a ValueSet URL (§3.5).
func outcome(id string, e *gpc.Error) gpc.OperationOutcome {
	display, ok := displays[e.Code]
	if !ok {
		display = e.Code.Display()
	}
	return gpc.OperationOutcome{
		ResourceType: "OperationOutcome",
		ID:           id,
		Issue: []gpc.Issue{{
			Severity: "error",
			Code:     e.IssueType(),
			Details: &gpc.CodeableConcept{Coding: []gpc.Coding{{
				System:  gpc.SystemSpineErrorValueSet,
				Code:    string(e.Code),
				Display: display,
			}}},
			Diagnostics: e.Diagnostics,
		}},
	}
}

// WithLogger sends the mock's reports of its own failures (an error it
// answers with a generic 500) to l; without it, or with nil, they are
// discarded.
func WithLogger(l *slog.Logger) Option {
	return func(s *server) {
		if l != nil {
			s.log = l
		}
	}
}

// writeError is the one place an error becomes a response. Untyped errors
// are logged in full and answered with a generic 500.
func (s *server) writeError(rw http.ResponseWriter, r *http.Request, correlationID string, err error) {
	var e *gpc.Error
	if !errors.As(err, &e) {
		s.log.Error("sds: answering 500", "method", r.Method, "url", r.URL.String(), "err", err)
		e = sdsError(http.StatusInternalServerError, gpc.InternalServerError, "exception", "Internal server error")
	}
	body, merr := marshal(outcome(correlationID, e), "    ")
	if merr != nil {
		http.Error(rw, "internal error", http.StatusInternalServerError)
		return
	}
	// Errors are always fhir+json, whatever was accepted (the 406 capture).
	writeBody(rw, r, correlationID, mediaFHIRJSON, e.HTTPStatus(), body)
}

// writeJSON answers 200 with v and the Etag Tornado adds to every 200 GET:
// the quoted SHA-1 of the body.
func (s *server) writeJSON(rw http.ResponseWriter, r *request, contentType string, v any) error {
	body, err := marshal(v, "  ")
	if err != nil {
		return err
	}
	s.writeOK(rw, r, contentType, body)
	return nil
}

// writeOK answers 200 with an encoded body and its Etag.
func (s *server) writeOK(rw http.ResponseWriter, r *request, contentType string, body []byte) {
	sum := sha1.Sum(body)
	rw.Header().Set("Etag", `"`+hex.EncodeToString(sum[:])+`"`)
	writeBody(rw, r.Request, r.correlationID, contentType, http.StatusOK, body)
}

// marshal indents like the service (2 spaces for bundles, 4 for outcomes)
// and leaves "&" in URLs and diagnostics as it is.
func marshal(v any, indent string) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", indent)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func writeBody(rw http.ResponseWriter, r *http.Request, correlationID, contentType string, status int, body []byte) {
	h := rw.Header()
	h.Set("Content-Type", contentType)
	h.Set("X-Correlation-Id", correlationID)
	if id := r.Header.Get("X-Request-Id"); id != "" {
		// Passed through (§3.3) so a consumer can tie the answer to its call.
		h.Set("X-Request-Id", id)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	rw.WriteHeader(status)
	_, _ = rw.Write(body) // a HEAD's body is dropped by net/http
}

// BadRequest is the service's 400 BAD_REQUEST for reason: issue
// "required", diagnostics "HTTP 400: Bad Request (reason)" (§3.5).
func BadRequest(reason string) *gpc.Error { return badRequest("%s", reason) }

// WriteError answers r with e exactly as the service answers its own
// errors (§3.5: OperationOutcome id = correlation id, X-Correlation-Id
// echoed or generated). The sandbox's strict mode uses it to refuse, in
// SDS's shape, requests the service itself lets through.
func WriteError(rw http.ResponseWriter, r *http.Request, e *gpc.Error) {
	(&server{log: slog.New(slog.DiscardHandler)}).writeError(rw, r, tolerantCorrelationID(r), e)
}

// faultDefaults is the code and issue type the service's error table gives
// a status (pds-sds-fhir.md §3.5); WriteFault sends INTERNAL_SERVER_ERROR
// (exception) for any other.
var faultDefaults = map[int]struct {
	code  gpc.Code
	issue string
}{
	http.StatusBadRequest: {gpc.BadRequest, "required"}, http.StatusNotFound: {gpc.NoRecordFound, "not-found"},
	http.StatusMethodNotAllowed: {gpc.NotImplemented, "not-supported"}, http.StatusNotAcceptable: {"MISSING_OR_INVALID_HEADER", "not-supported"},
	http.StatusGatewayTimeout: {gpc.InternalServerError, "timeout"},
}

// WriteFault answers r with status in SDS's error shape, for answers given
// in its name (the sandbox's injected faults): code with issue type
// exception, or when code is "" the code and issue the service's table
// gives status.
func WriteFault(rw http.ResponseWriter, r *http.Request, status int, code gpc.Code, diagnostics string) {
	e := sdsError(status, code, "exception", diagnostics)
	if code == "" {
		e.Code = gpc.InternalServerError
		if d, ok := faultDefaults[status]; ok {
			e.Code, e.Issue = d.code, d.issue
		}
	}
	WriteError(rw, r, e)
}
