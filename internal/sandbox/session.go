package sandbox

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/conformance"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/journal"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
	"github.com/spine-sandbox/spine-sandbox/internal/world"
	"github.com/spine-sandbox/spine-sandbox/mocks/ssp"
)

// Session is one scenario instance: its world, its journal and the mocks
// serving them.
type Session struct {
	ID       string
	Prefix   string // "" for the default session, else "/s/{id}"
	Base     string // public base URL of the session
	Scenario *scenario.Scenario
	World    *world.World
	Journal  *journal.Journal
	Created  time.Time
	Lenient  bool

	// lastUsed (unix nanoseconds of the server's clock) and ttl drive the
	// idle janitor (ttl.go).
	lastUsed atomic.Int64
	ttl      time.Duration
	// slotCount is what the session counts against Limits.MaxSlotsTotal.
	slotCount int
	// metrics count the session's hops for GET /_admin/metrics (metrics.go).
	metrics *metrics

	faults   *faults
	pds      http.Handler
	sds      http.Handler
	ssp      http.Handler
	provider http.Handler
	ui       http.Handler
	ldap     ldapState // party keys the session's LDAP MHS searches returned (ldap.go)

	// server, journey, mocks and views serve the session at the origins
	// its clients use (origin.go).
	server  *Server
	journey *conformance.Journey
	mocks   *mockSet
	viewMu  sync.Mutex
	views   map[string]*mockSet

	// runMu guards the session's built-in consumer run (runs.go).
	runMu     sync.Mutex
	runCancel context.CancelFunc // the run in flight, nil when none
	closed    bool               // removed: no new run starts

	// runsBegun and runsEnded count the session's runs, for the event
	// stream's "run" events (the live diagram's verdict banner).
	runsBegun, runsEnded int
	lastVerdict          *RunVerdict // the last run's, for the session list
	runInfo              RunInfo     // the latest run, for GET /_admin/sessions/{id}
}

// URLs are the base URLs a consumer needs for one session.
type URLs struct {
	PDS      string `json:"pds"`
	SDS      string `json:"sds"`
	SSP      string `json:"ssp"`
	Provider string `json:"provider"`
	UI       string `json:"ui"`
}

// URLs returns the session's base URLs.
func (ss *Session) URLs() URLs {
	return URLs{
		PDS:      ss.Base + PDSPath,
		SDS:      ss.Base + SDSPath,
		SSP:      ss.Base + SSPPath,
		Provider: ss.Base + ProviderPath,
		UI:       ss.Base + "/",
	}
}

func (s *Server) newSession(id string, sc *scenario.Scenario) (*Session, error) {
	prefix := ""
	if id != DefaultSession {
		prefix = "/s/" + id
	}
	start := s.cfg.Clock()
	clock := world.Clock(s.cfg.Clock)
	if pinned, ok := sc.PinnedNow(); ok {
		// A pinned clock starts at the scenario's instant and runs on.
		real := s.cfg.Clock
		clock = func() time.Time { return pinned.Add(real().Sub(start)) }
	}
	// Every reason to refuse the scenario, in one list, where every
	// session (serve's default, the admin API's, the runner's) is made:
	// expectations naming no check (they would hold vacuously), practice
	// endpoints that are neither this session's own provider nor an
	// allowed upstream (never an open proxy: upstream.go), and a world
	// that cannot be built at the session's clock.
	probs := conformance.ScenarioProblems(sc)
	probs = append(probs, s.endpointProblems(sc, prefix+ProviderPath+"/")...)
	data, err := sc.World(clock())
	var le *scenario.LoadError
	switch {
	case errors.As(err, &le):
		probs = append(probs, le.Problems...)
	case err != nil:
		return nil, err
	}
	if len(probs) > 0 {
		scenario.SortProblems(probs)
		return nil, &scenario.LoadError{Problems: probs}
	}
	ss := &Session{
		ID:       id,
		Prefix:   prefix,
		Base:     s.cfg.PublicURL + prefix,
		Scenario: sc,
		Journal:  newJournal(s.cfg.Limits),
		Created:  start,
		Lenient:  s.cfg.Lenient || sc.Lenient,
		ui:       s.cfg.UI,
	}
	ss.World = world.New(data, ss.Base, clock)
	ss.faults = newFaults(sc.Faults, s.cfg.FixtureDir)
	ss.server = s
	ss.journey = conformance.NewJourney(ss.World, s.cfg.Limits.TraceIDWindow)
	ss.mocks = s.buildMocks(ss, ss.World)
	ss.pds, ss.sds, ss.provider, ss.ssp = ss.mocks.pds, ss.mocks.sds, ss.mocks.provider, ss.mocks.ssp
	return ss, nil
}

// newJournal is a session's journal, bounded by the sandbox's limits.
func newJournal(l Limits) *journal.Journal {
	return journal.New(journal.Limits{Hops: l.JournalHops, Bytes: l.JournalBytes, Body: l.BodyKept, Header: l.HeaderKept})
}

// serve routes path (the request path with the session prefix removed).
func (ss *Session) serve(w http.ResponseWriter, r *http.Request, path string) {
	m := ss.mocksFor(r)
	switch {
	case under(path, PDSPath):
		serveStripped(m.pds, w, r, ss.Prefix+PDSPath)
	case under(path, SDSPath):
		serveStripped(m.sds, w, r, ss.Prefix+SDSPath)
	case strings.HasPrefix(path, SSPPath):
		// The SSP reads its target from the raw RequestURI itself.
		m.ssp.ServeHTTP(w, r)
	case under(path, ProviderPath):
		serveStripped(m.provider, w, r, ss.Prefix+ProviderPath)
	case ss.ui != nil:
		ss.ui.ServeHTTP(w, r)
	default:
		writeJSONError(w, http.StatusNotFound, "no service at "+path+"; see /_admin/sessions/"+ss.ID)
	}
}

func under(path, base string) bool {
	return path == base || strings.HasPrefix(path, base+"/") || strings.HasPrefix(path, base+"?")
}

func serveStripped(h http.Handler, w http.ResponseWriter, r *http.Request, prefix string) {
	http.StripPrefix(prefix, h).ServeHTTP(w, r)
}

// headersOnly adapts a judge that needs no request body.
func headersOnly(judge func(*http.Request) []journal.Verdict) func(*http.Request, []byte) []journal.Verdict {
	return func(r *http.Request, _ []byte) []journal.Verdict { return judge(r) }
}

// checksKey carries the verdicts the SSP reports for the hop being recorded.
type checksKey struct{}

type verdicts struct {
	mu   sync.Mutex
	list []journal.Verdict
}

func reportSSP(r *http.Request, failures []ssp.Failure) {
	v, ok := r.Context().Value(checksKey{}).(*verdicts)
	if !ok {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, f := range failures {
		v.list = append(v.list, journal.Verdict{Check: f.Check, Passed: false, Severity: "error", Section: "gpconnect-1.6.md §1.4", Message: f.Message})
	}
}

// record wraps a mock: it applies the session's faults for hop and appends
// one journal entry per request. A provider request that arrives in process
// from the SSP is recorded as the SSP→provider leg. judge, when set, gives
// the conformance verdicts on a request from the consumer.
//
// The hop keeps each body once, as it went over the wire: at most
// Limits.BodyKept bytes, still gzip-compressed when the provider compressed
// it (the journal decodes it when read); only an error answer's Spine code
// is decoded here. Headers are kept within Limits.HeaderKept.
func (ss *Session) record(from, to journal.Party, hop scenario.Hop, h http.Handler, judge func(*http.Request, []byte) []journal.Verdict) http.Handler {
	lim := ss.Journal.Limits()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		began := time.Now()
		hopFrom := from
		if to == journal.Provider && r.Context().Value(inProcessKey{}) != nil {
			hopFrom = journal.SSP
		}
		var reqBody []byte
		if r.Body != nil {
			reqBody, _ = io.ReadAll(io.LimitReader(r.Body, 8<<20))
			r.Body = io.NopCloser(bytes.NewReader(reqBody))
		}
		v := &verdicts{}
		r = r.WithContext(context.WithValue(r.Context(), checksKey{}, v))
		tee := &teeWriter{ResponseWriter: w, status: http.StatusOK, limit: lim.Body}
		name, in := hopName(hop, r)
		var judged []journal.Verdict
		if judge != nil && hopFrom == journal.Consumer {
			judged = judge(r, reqBody)
		}
		// Strict mode answers a failed check no mock enforces before the
		// mock or a fault runs (strict.go); such a request uses no fault.
		refuse := ss.certRefusal(to, r) // serve --tls: before everything else (tls.go)
		if refuse == nil {
			refuse = ss.strictRefusal(judged)
		}
		var f *fault
		if refuse == nil {
			f = ss.faults.match(hop, name, in)
		}
		// The request's headers as received, taken before a handler can
		// change them, and clipped now so a huge one is never copied whole
		// (Record clips again, sharing the budget with the response's).
		reqHeader, headersCut := journal.ClipHeader(r.Header, lim.Header)
		entry := journal.Hop{
			Time:          began,
			From:          hopFrom,
			To:            to,
			Interaction:   string(in),
			Name:          name,
			Method:        r.Method,
			URL:           ss.requestURL(r),
			RequestHeader: reqHeader,
			HeadersCut:    headersCut,
			TLS:           journal.TLSFactsOf(r.TLS),
		}
		// The journal copies what it keeps of the body: at most BodyKept of
		// up to 8 MiB read for the mock.
		reqKept := journal.Body{Data: reqBody, Encoding: r.Header.Get("Content-Encoding")}
		if in == "" {
			entry.Interaction = name
		}
		entry.Step, entry.ReplyStep = steps(hopFrom, to, name, in)
		// The live diagram draws the hop in flight from this start until
		// the Record below ends it (the hop carries the start's id).
		entry.Start = ss.Journal.Begin(journal.Start{Time: began, From: hopFrom, To: to, Step: entry.Step,
			Name: name, Method: r.Method, URL: entry.URL})
		defer func() {
			if p := recover(); p != nil {
				entry.Error = "connection dropped"
				entry.Status = 0
				entry.Duration = time.Since(began)
				ss.Journal.Record(entry, reqKept, journal.Body{})
				ss.observed(&entry)
				panic(p)
			}
			entry.Duration = time.Since(began)
			entry.Status = tee.status
			entry.ResponseHeader = tee.Header()
			res := journal.Body{Data: tee.body.Bytes(), Encoding: tee.Header().Get("Content-Encoding"), Size: tee.size}
			if entry.Status >= 400 {
				entry.Code, _ = gpc.SpineCode(journal.Decode(res, lim.Body))
			}
			v.mu.Lock()
			entry.Checks = append(entry.Checks, conformance.Merge(v.list, judged)...)
			v.mu.Unlock()
			ss.Journal.Record(entry, reqKept, res)
			ss.observed(&entry)
		}()
		if refuse != nil {
			refuse(tee, r)
			return
		}
		if f != nil {
			entry.Fault = f.describe()
			f.apply(tee, r, h)
			return
		}
		h.ServeHTTP(tee, r)
	})
}

func (ss *Session) requestURL(r *http.Request) string {
	u := r.RequestURI
	if u == "" {
		u = r.URL.RequestURI()
	}
	if strings.HasPrefix(u, "/") {
		host := r.Host
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		return scheme + "://" + host + u
	}
	return u
}

// hopName names a request: "pds.retrieve", "sds.endpoint",
// "provider.book appointment", "ssp.book appointment".
func hopName(hop scenario.Hop, r *http.Request) (string, gpc.Interaction) {
	p := r.URL.Path
	switch hop {
	case scenario.HopPDS:
		if strings.HasPrefix(p, "/Patient/") {
			return string(scenario.StepPDSRetrieve), ""
		}
		return string(scenario.StepPDSSearch), ""
	case scenario.HopSDS:
		if strings.HasPrefix(p, "/Device") {
			return string(scenario.StepSDSDevice), ""
		}
		return string(scenario.StepSDSEndpoint), ""
	}
	in := gpc.Interaction(gpc.HeaderValue(r.Header, "Ssp-InteractionID"))
	short := in.Name()
	if !gpc.IsKnown(in) {
		short = "unknown interaction"
	}
	return string(hop) + "." + short, in
}

// steps gives the seed diagram's arrow ids for a hop.
func steps(from, to journal.Party, name string, in gpc.Interaction) (string, string) {
	switch name {
	case string(scenario.StepPDSRetrieve), string(scenario.StepPDSSearch):
		return "1a", "1b"
	case string(scenario.StepSDSEndpoint):
		return "2a", "2b"
	case string(scenario.StepSDSDevice):
		return "2c", "2d"
	}
	n := "7"
	switch in {
	case gpc.ReadMetadata:
		n = "3"
	case gpc.SearchSlots:
		n = "4"
	case gpc.SearchPatient:
		n = "5"
	case gpc.RegisterPatient:
		// The no-record branch, after find patient (5a–5d).
		if from == journal.SSP {
			return "5f", "5g"
		}
		return "5e", "5h"
	case gpc.CreateAppointment:
		n = "6"
	}
	if from == journal.SSP {
		return n + "b", n + "c"
	}
	return n + "a", n + "d"
}

// teeWriter passes a response through and keeps its status, its size and
// a copy of at most limit bytes of its body for the journal.
type teeWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
	limit       int
	size        int64
	body        bytes.Buffer
}

func (t *teeWriter) WriteHeader(code int) {
	if !t.wroteHeader {
		t.status = code
		t.wroteHeader = true
	}
	t.ResponseWriter.WriteHeader(code)
}

func (t *teeWriter) Write(b []byte) (int, error) {
	t.wroteHeader = true
	t.size += int64(len(b))
	if room := t.limit - t.body.Len(); room > 0 {
		t.body.Write(b[:min(room, len(b))])
	}
	return t.ResponseWriter.Write(b)
}

func (t *teeWriter) Flush() {
	if f, ok := t.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (t *teeWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }

// recorder is the in-process transport's response writer.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder { return &recorder{header: http.Header{}} }

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}
func (r *recorder) Flush() {}

func (r *recorder) response(req *http.Request) *http.Response {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return &http.Response{
		Status:        http.StatusText(r.status),
		StatusCode:    r.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        r.header,
		Body:          io.NopCloser(bytes.NewReader(r.body.Bytes())),
		ContentLength: int64(r.body.Len()),
		Request:       req,
	}
}
