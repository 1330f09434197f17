// Package provider is the sandbox's fake GP Connect 1.6 provider (FHIR STU3):
// one http.Handler that serves every practice of a world at its service root
// "/{ODS}/STU3/1/gpconnect" (gpconnect-1.6.md §1.2), stateful through the
// world.
//
// Every request goes through the provider's duties before its handler runs
// (§1.4 "What the provider must check", §9.3): the four Ssp-* headers, Ssp-To
// equal to the practice's ASID, an interaction that matches the method and
// path, the audit JWT (§2.4, via internal/jwt, with the practice's service
// root as audience and the interaction's scope), and content negotiation
// (§1.3, negotiate.go). Handlers then decode, check the use case's rules (§3,
// §4), ask the world, and encode. They return errors; writeError alone turns
// an error into a GPConnect-OperationOutcome-1 (§6.1), and anything untyped
// into a logged, generic 500.
//
// FHIR XML is handled at the edge only (internal/fhirxml): an XML body is
// converted to JSON as it is read (readBody, and CheckRequest for the
// conformance checks), so every rule and Spine code is the JSON path's, and
// writeJSON and writeAnswer, the two places a body is written, convert the
// answer — error or not — when the request asks for XML (wantsXML).
package provider

import (
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/spine-sandbox/spine-sandbox/internal/fhirxml"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/jwt"
	"github.com/spine-sandbox/spine-sandbox/internal/stu3"
	"github.com/spine-sandbox/spine-sandbox/internal/world"
)

// handler serves one interaction. It validates its own input and returns an
// error for anything wrong.
type handler func(rw http.ResponseWriter, r *request) error

// request is a request that passed the provider's checks.
type request struct {
	*http.Request
	practice    world.Practice
	root        string // the practice's service root, for Location headers
	path        string // FHIR path below the service root, e.g. "/Slot"
	interaction gpc.Interaction
}

type server struct {
	// log receives what the provider cannot answer as GP Connect would:
	// a bug answered with a generic 500 (writeError, writeJSON).
	log    *slog.Logger
	world  *world.World
	index  map[string]*practiceIndex // by ODS code
	routes map[gpc.Interaction]handler
	// slotAnswers keeps encoded slot searches until the world's slots
	// change (a search encodes every Slot: the bulk of its cost); while
	// the world is pristine they come from its template's (slotSource).
	slotAnswers answers
}

// New returns the provider for every practice in the world. Paths are
// relative to "/provider", i.e. "/{ODS}/STU3/1/gpconnect/{FHIR path}"; the
// service root SDS hands out is w.ServiceRoot(practice). Unknown ODS codes
// and paths outside a service root are answered with a
// GPConnect-OperationOutcome-1, never plain text.
func New(w *world.World, opts ...Option) http.Handler {
	s := &server{world: w, index: indexPractices(w), log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(s)
	}
	s.routes = map[gpc.Interaction]handler{
		gpc.ReadMetadata:       s.metadata,            // §3.1
		gpc.SearchPatient:      s.findPatient,         // §3.2
		gpc.ReadPatient:        s.readPatient,         // §3.4
		gpc.RegisterPatient:    s.registerPatient,     // §3.3
		gpc.SearchPractitioner: s.findPractitioner,    // §3.5
		gpc.ReadPractitioner:   s.readPractitioner,    // §3.5
		gpc.SearchOrganization: s.findOrganization,    // §3.5
		gpc.ReadOrganization:   s.readOrganization,    // §3.5
		gpc.ReadLocation:       s.readLocation,        // §3.5
		gpc.SearchSlots:        s.searchSlots,         // §4.1
		gpc.CreateAppointment:  s.bookAppointment,     // §4.2
		gpc.ReadAppointment:    s.readAppointment,     // §4.3
		gpc.AmendAppointment:   s.amendAppointment,    // §4.4
		gpc.CancelAppointment:  s.cancelAppointment,   // §4.5
		gpc.SearchPatientAppts: s.patientAppointments, // §4.6
	}
	return s
}

// Option configures New.
type Option func(*server)

// WithLogger sends the provider's reports of its own failures (an error it
// answers with a generic 500) to l; without it, or with nil, they are
// discarded.
func WithLogger(l *slog.Logger) Option {
	return func(s *server) {
		if l != nil {
			s.log = l
		}
	}
}

// ServeHTTP applies the provider's checks in order, then the interaction's
// handler; every failure goes through writeError.
func (s *server) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.writeError(rw, r, fmt.Errorf("provider: panic serving %s %s: %v", r.Method, r.URL.Path, v))
		}
	}()
	req, err := s.check(r)
	if err == nil {
		err = s.routes[req.interaction](rw, req)
	}
	if err != nil {
		s.writeError(rw, r, err)
	}
}

// check runs the provider's duties (§1.4, §2.4, §1.3) and returns the
// request with its practice and interaction.
func (s *server) check(r *http.Request) (*request, error) {
	ix, fhirPath, err := s.route(r.URL.Path)
	if err != nil {
		return nil, err
	}
	p := ix.practice
	// §1.4: all four Ssp-* headers present (Header.Get is case-insensitive,
	// §1.3 GOTCHA); the demonstrator answers a blank one with 400.
	for _, h := range []string{"Ssp-TraceID", "Ssp-From", "Ssp-To", "Ssp-InteractionID"} {
		if strings.TrimSpace(gpc.Get(r.Header, h)) == "" {
			return nil, gpc.Errorf(gpc.BadRequest, "%s header is missing or empty", h)
		}
	}
	// §1.4: accept only requests addressed to this provider's ASID.
	if to := strings.TrimSpace(gpc.Get(r.Header, "Ssp-To")); to != p.ProviderASID {
		return nil, gpc.Errorf(gpc.BadRequest, "Ssp-To %s is not this provider's ASID (%s)", to, p.ProviderASID)
	}
	// §1.4, §6.2: the interaction must be known and match the verb and path.
	id := gpc.Interaction(strings.TrimSpace(gpc.Get(r.Header, "Ssp-InteractionID")))
	info, ok := gpc.Lookup(id)
	if !ok {
		return nil, gpc.Errorf(gpc.BadRequest, "Ssp-InteractionID %s is not a GP Connect Foundations or Appointment Management interaction", id)
	}
	if !info.Matches(r.Method, fhirPath) { // id's own entry: ForRequest would try them all
		// A read with an empty id ("GET /Appointment/") names no resource:
		// 404, as a FHIR server answers and NHS's suite expects
		// (AppointmentRead.feature "invalid appointment id", id "").
		if r.Method == info.Method && strings.HasSuffix(info.Path, "/{id}") && fhirPath == strings.TrimSuffix(info.Path, "{id}") {
			return nil, gpc.Errorf(gpc.NoRecordFound, "%s has no id", fhirPath)
		}
		return nil, gpc.Errorf(gpc.BadRequest, "InteractionID header does not match request: %s expects %s %s, got %s %s",
			id, info.Method, info.Path, r.Method, fhirPath)
	}
	root := ix.root
	// §2.4: every JWT rule, with the status of the first broken one.
	if vs := jwt.Validate(gpc.Get(r.Header, "Authorization"), jwt.Expect{
		Audience: root, Scope: info.Scope, Now: s.world.Now(), CheckAudience: true,
	}); len(vs) > 0 {
		return nil, vs[0].Err()
	}
	if err := negotiate(r); err != nil {
		return nil, err
	}
	return &request{Request: r, practice: p, root: root, path: fhirPath, interaction: id}, nil
}

// route splits "/{ODS}/STU3/1/gpconnect/{FHIR path}" into the practice
// (its index) and the FHIR path ("/" when empty).
func (s *server) route(path string) (*practiceIndex, string, error) {
	ods, rest, ok1 := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	stu3, rest, ok2 := strings.Cut(rest, "/")
	one, rest, ok3 := strings.Cut(rest, "/")
	gpconnect, fhir, ok4 := strings.Cut(rest, "/")
	if !ok1 || !ok2 || !ok3 || stu3 != "STU3" || one != "1" || gpconnect != "gpconnect" {
		return nil, "", gpc.Errorf(gpc.NoRecordFound,
			"%s is not under a provider service root /{ODS}/STU3/1/gpconnect", path)
	}
	ix, ok := s.index[ods]
	if !ok {
		return nil, "", gpc.Errorf(gpc.OrganisationNotFound, "No practice with ODS code %q at this provider", ods)
	}
	if !ok4 {
		return ix, "/", nil
	}
	return ix, path[len(path)-len(fhir)-1:], nil // "/" + fhir, the slash before it
}

// writeError is the one place an error becomes a response: a typed
// *gpc.Error becomes its GPConnect-OperationOutcome-1 (§6.1); anything else
// is logged in full through the provider's logger and answered with a
// generic 500.
func (s *server) writeError(rw http.ResponseWriter, r *http.Request, err error) {
	var e *gpc.Error
	if !errors.As(err, &e) {
		s.log.Error("provider: answering 500", "method", r.Method, "path", r.URL.Path, "err", err)
		e = gpc.AsError(err)
	}
	s.writeJSON(rw, r, e.HTTPStatus(), gpc.ProviderOutcome(e), nil)
}

// faultDefaults is the code §6.2's table gives a status; WriteFault sends
// INTERNAL_SERVER_ERROR for any other.
var faultDefaults = map[int]gpc.Code{
	http.StatusBadRequest: gpc.BadRequest, http.StatusForbidden: "ACCESS DENIED", http.StatusNotFound: gpc.NoRecordFound,
	http.StatusConflict: gpc.DuplicateRejected, http.StatusPreconditionFailed: "PRECONDITION_FAILED",
	http.StatusUnsupportedMediaType: "UNSUPPORTED_MEDIA_TYPE", http.StatusUnprocessableEntity: gpc.InvalidResource,
	http.StatusNotImplemented: "NOT_IMPLEMENTED",
}

// WriteFault answers r with status as the provider answers its own errors,
// for answers given in its name (the sandbox's injected faults): code, or
// the one §6.2 gives status when it is "".
func WriteFault(rw http.ResponseWriter, r *http.Request, status int, code gpc.Code, diagnostics string) {
	if code == "" {
		code = gpc.InternalServerError
		if c, ok := faultDefaults[status]; ok {
			code = c
		}
	}
	WriteError(rw, r, &gpc.Error{Status: status, Code: code, Diagnostics: diagnostics})
}

// WriteError answers r with err as the provider answers its own errors:
// the one writer of its GPConnect-OperationOutcome-1 (§6.1) — a typed
// *gpc.Error as itself, anything else a generic 500 (logged only when a
// provider answers for itself, through the logger New was given).
func WriteError(rw http.ResponseWriter, r *http.Request, err error) {
	(&server{log: slog.New(slog.DiscardHandler)}).writeError(rw, r, err)
}

// writeJSON writes v, in FHIR JSON or, when the request asks for it
// (wantsXML), FHIR XML, with the headers every response carries (§1.3:
// Content-Type with charset, Cache-Control: no-store) plus extra, gzipped
// when the client asks for it (§1.3: servers SHALL support gzip). It is
// the one place a resource becomes a response body.
func (s *server) writeJSON(rw http.ResponseWriter, r *http.Request, status int, v any, extra http.Header) {
	// stu3.Marshal copies a Bundle's already-encoded entries instead of
	// letting encoding/json scan each of them again.
	body, err := stu3.Marshal(v)
	ctype := contentType
	if err == nil && wantsXML(r) {
		if body, err = fhirxml.JSONToXML(body); err == nil {
			ctype = contentTypeXML
		}
	}
	if err != nil {
		s.log.Error("provider: encoding", "type", fmt.Sprintf("%T", v), "err", err)
		status, ctype = http.StatusInternalServerError, contentType
		body, _ = json.Marshal(gpc.ProviderOutcome(gpc.AsError(err)))
	}
	h := rw.Header()
	for k, vs := range extra {
		h[k] = vs
	}
	h.Set("Content-Type", ctype)
	h.Set("Cache-Control", "no-store")
	h.Add("Vary", "Accept-Encoding")
	if acceptsGzip(r) {
		h.Set("Content-Encoding", "gzip")
		rw.WriteHeader(status)
		pool := &gzipWriters
		if len(body) <= smallAnswer {
			pool = &smallGzipWriters
		}
		zw := pool.Get().(*gzip.Writer)
		zw.Reset(rw)
		_, _ = zw.Write(body)
		_ = zw.Close()
		pool.Put(zw)
		return
	}
	rw.WriteHeader(status)
	_, _ = rw.Write(body)
}

// gzipWriters recycles compressors: a new gzip.Writer allocates about
// 800 KB of deflate state, which dominated a slot search's allocations.
// They compress an answer made for one request at BestSpeed: resetting a
// compressor at the default level clears 640 KB of match tables, which
// made gzipping a 1 KB answer cost more than building it (26 µs against
// 16 µs). Answers kept for many requests are gzipped once at the default
// level (form.get).
var gzipWriters = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed) // a valid level: no error
	return zw
}}

// smallGzipWriters gzip answers of at most smallAnswer bytes (a patient
// search, a booking: ~1.5 KB) with Huffman coding alone: on so little
// JSON the repeats BestSpeed finds save a few hundred bytes, and finding
// them cost a quarter of the time (19.5 against 15 µs for a booking's
// answer, whose gzip grows from 660 to 1,101 bytes).
var smallGzipWriters = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(io.Discard, gzip.HuffmanOnly) // a valid level: no error
	return zw
}}

// smallAnswer is the largest answer smallGzipWriters compress.
const smallAnswer = 4 << 10

func acceptsGzip(r *http.Request) bool {
	for part := range strings.SplitSeq(gpc.Get(r.Header, "Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(coding), "gzip") && !strings.Contains(strings.ReplaceAll(params, " ", ""), "q=0") {
			return true
		}
	}
	return false
}

// etag is a resource's weak ETag (§1.3: W/"<versionId>").
func etag(version string) http.Header {
	return http.Header{"Etag": {`W/"` + version + `"`}}
}

// readBody reads a request body as JSON, converting an XML one
// (requestJSON); a body that is not JSON or FHIR XML is 400 BAD_REQUEST
// (§6.2: malformed JSON/XML body).
func readBody(r *request) ([]byte, error) {
	body, err := readRaw(r)
	if err != nil {
		return nil, err
	}
	return requestJSON(r.Header, body)
}

// readRaw reads a request body as it came, at most 1 MiB (413 beyond).
func readRaw(r *request) ([]byte, error) {
	const max = 1 << 20
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, max))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, gpc.StatusErrorf(http.StatusRequestEntityTooLarge, gpc.BadRequest, "Request body is larger than %d bytes", max)
		}
		return nil, gpc.Errorf(gpc.BadRequest, "Reading request body: %v", err)
	}
	return body, nil
}
