package sandbox

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/conformance"
	"github.com/spine-sandbox/spine-sandbox/internal/fhirxml"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/journal"
	"github.com/spine-sandbox/spine-sandbox/internal/kept"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
	"github.com/spine-sandbox/spine-sandbox/internal/spinerules"
	"github.com/spine-sandbox/spine-sandbox/internal/world"
	"github.com/spine-sandbox/spine-sandbox/mocks/provider"
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
	// that cannot be built at the session's clock — checked, not built,
	// when there are other problems.
	probs := conformance.ScenarioProblems(sc)
	probs = append(probs, s.endpointProblems(sc, prefix+ProviderPath+"/")...)
	if len(probs) > 0 {
		probs = append(probs, sc.WorldProblems(clock())...)
		scenario.SortProblems(probs)
		return nil, &scenario.LoadError{Problems: probs}
	}
	// The world is built once per scenario and epoch (templates.go) and
	// each session's starts as its copy; World's own problems are a
	// *scenario.LoadError too.
	tmpl, err := s.templates.get(sc, clock())
	if err != nil {
		return nil, err
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
	ss.World = tmpl.World(ss.Base, clock)
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

// A mock is recorded by small middlewares around it, outermost first
// (record): journalHop keeps one journal entry per request; judgeHop runs
// the consumer-side judge (internal/conformance) on a consumer's request to
// the SSP, for what no single mock sees; unservedHop, for PDS and SDS, runs
// the mock's own checks in its place when the TLS layer or a fault answered
// instead; refuseHop answers what the TLS layer and strict mode refuse
// before any mock; faultHop applies the session's faults. They share one
// hopState per request, which the verdict hooks (reportMock for PDS and
// SDS, reportSSP, the TLS check's noteCheck) reach through the request's
// context. PDS and SDS judge their own requests: no consumer-side judge
// repeats their checks.

// hopKey carries the hop being recorded (hopState).
type hopKey struct{}

// hopState is what the middlewares of one request learn and the journal
// entry keeps.
type hopState struct {
	// Context is the request's context as it came; the hop state is the
	// context the middlewares pass on, so that hopOf finds it (Value)
	// without one more context per request.
	context.Context
	from journal.Party // Consumer, or SSP for an in-process forward
	name string
	in   gpc.Interaction
	body []byte // the request body, as read (at most 8 MiB)
	tee  *teeWriter

	mu       sync.Mutex
	reported []journal.Verdict // through the hook, from the mocks and the TLS check
	ownRan   bool              // the mock reported its own checks (reportMock)
	judged   []journal.Verdict // the consumer-side judge's
	parsed   *provider.Parsed  // what the judge's rules made of the request (parseRequest)
	fault    string            // the fault applied, described
	// added names the keys the SSP put into the request's own header map
	// when it forwarded it in process (inProcess.InPlace): the request
	// came without them.
	added []string
}

// report adds verdicts to the hop: the one hook every mock is handed.
func (st *hopState) report(vs ...journal.Verdict) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.reported = append(st.reported, vs...)
}

// checks are the hop's verdicts for its journal entry: the reported ones,
// then the judge's failures that no reported verdict names.
func (st *hopState) checks() []journal.Verdict {
	st.mu.Lock()
	defer st.mu.Unlock()
	return conformance.Merge(st.reported, st.judged)
}

// Value answers hopKey with the hop state, anything else from the
// request's context.
func (st *hopState) Value(key any) any {
	if _, ok := key.(hopKey); ok {
		return st
	}
	return st.Context.Value(key)
}

func hopOf(r *http.Request) *hopState {
	st, _ := r.Context().Value(hopKey{}).(*hopState)
	return st
}

// reportMock is PDS's and SDS's verdict hook (pds.WithReport,
// sds.WithReport): the mock reports every verdict of its checks and the hop
// keeps the failures, with the severity of the judge's table, as Merge
// keeps the judge's.
func reportMock(r *http.Request, vs []spinerules.Verdict) {
	st := hopOf(r)
	if st == nil {
		return
	}
	st.mu.Lock()
	st.ownRan = true
	st.mu.Unlock()
	for _, v := range vs {
		if v.Passed {
			continue
		}
		c, _ := conformance.Lookup(v.Check)
		st.report(journal.Verdict{Check: v.Check, Passed: false, Severity: c.Severity, Section: v.Section, Message: v.Message})
	}
}

// reportSSP is the SSP's verdict hook (ssp.Config.Report).
func reportSSP(r *http.Request, failures []ssp.Failure) {
	st := hopOf(r)
	if st == nil {
		return
	}
	for _, f := range failures {
		section := "§1.4"
		if c, ok := spinerules.SSPCheckNamed(f.Check); ok {
			section = c.Section
		}
		st.report(journal.Verdict{Check: f.Check, Passed: false, Severity: "error", Section: "gpconnect-1.6.md " + section, Message: f.Message})
	}
}

// record wraps a mock in the session's middlewares for hop. judge, when
// set, gives the consumer-side judge's verdicts on a request from the
// consumer (the SSP's hop); own, when set, is the checks of a mock that
// judges its own requests (pds.Checks, sds.Checks), for unservedHop.
func (ss *Session) record(from, to journal.Party, hop scenario.Hop, h http.Handler, judge func(*http.Request, []byte) []journal.Verdict, own func(*http.Request) []spinerules.Verdict) http.Handler {
	return ss.journalHop(from, to, hop, judgeHop(judge, unservedHop(own, ss.refuseHop(to, ss.faultHop(hop, h)))))
}

// unservedHop runs own, a mock's own checks, in its place on a request the
// mock never saw — one the TLS layer or a fault answered — so the hop says
// what was wrong with the request whoever answered it, and the checks still
// run once per request.
func unservedHop(own func(*http.Request) []spinerules.Verdict, next http.Handler) http.Handler {
	if own == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r)
		st := hopOf(r)
		st.mu.Lock()
		ran := st.ownRan
		st.mu.Unlock()
		if !ran {
			reportMock(r, own(r))
		}
	})
}

// judgeHop runs the consumer-side judge on a consumer's request.
func judgeHop(judge func(*http.Request, []byte) []journal.Verdict, next http.Handler) http.Handler {
	if judge == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if st := hopOf(r); st.from == journal.Consumer {
			judged := judge(r, st.body)
			st.mu.Lock()
			st.judged = judged
			st.mu.Unlock()
		}
		next.ServeHTTP(w, r)
	})
}

// refuseHop answers, before any mock or fault, what Spine's TLS layer
// refuses (serve --tls, tls.go) and, in strict mode, a failed check no
// mock enforces (strict.go): such a request uses no fault.
func (ss *Session) refuseHop(to journal.Party, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		refuse := ss.certRefusal(to, r)
		if refuse == nil {
			st := hopOf(r)
			st.mu.Lock()
			judged := st.judged
			st.mu.Unlock()
			refuse = ss.strictRefusal(judged)
		}
		if refuse != nil {
			refuse(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// faultHop applies the first of the session's faults that matches the
// request, else serves it with the mock.
func (ss *Session) faultHop(hop scenario.Hop, mock http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := hopOf(r)
		f := ss.faults.match(hop, st.name, st.in)
		if f == nil {
			mock.ServeHTTP(w, r)
			return
		}
		st.mu.Lock()
		st.fault = f.describe()
		st.mu.Unlock()
		f.apply(w, r, mock)
	})
}

// journalHop appends one journal entry per request. A provider request
// that arrives in process from the SSP is recorded as the SSP→provider
// leg.
//
// The hop keeps each body once, as it went over the wire: at most
// Limits.BodyKept bytes, still gzip-compressed when the provider compressed
// it (the journal decodes it when read); only an error answer's Spine code
// is decoded here. Headers are kept within Limits.HeaderKept.
func (ss *Session) journalHop(from, to journal.Party, hop scenario.Hop, next http.Handler) http.Handler {
	lim := ss.Journal.Limits()
	names := namesOf(hop)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		began := time.Now()
		var st *hopState
		var ipc *inProcessContext
		if to == journal.Provider {
			ipc = inProcessOf(r)
		}
		if ipc != nil {
			// Forwarded by the SSP in process: the hop lives in the
			// forward's context (inProcessContext.hop), which each forward
			// makes afresh for this one hop.
			st = &ipc.hop
			st.from = journal.SSP
		} else {
			st = &hopState{from: from}
		}
		given := ipc != nil && ipc.given            // the SSP's own maps, which nobody changes after
		if r.Body != nil && r.Body != http.NoBody { // a GET has nothing to read
			st.body, _ = io.ReadAll(io.LimitReader(r.Body, 8<<20))
			r.Body = io.NopCloser(bytes.NewReader(st.body))
		}
		tee := &teeWriter{ResponseWriter: w, status: http.StatusOK, limit: lim.Body}
		if rec, ok := w.(*recorder); ok { // in process: the body is kept there already
			tee.into, tee.from = rec, len(rec.bytes())
		}
		st.tee = tee
		st.Context = r.Context()
		if ipc != nil {
			ipc.hopBegun = true // hopOf(r) finds it from here on
		} else {
			r = r.WithContext(st)
		}
		st.name, st.in = hopName(hop, names, r)
		// The request's headers as received, taken before a handler can
		// change them, and clipped now so a huge one is never copied whole;
		// the journal keeps this copy (RecordTaken) unless the response's
		// share of the budget makes it clip further. A map made for this
		// request alone, which nobody changes after, is kept as it is.
		take, owned := journal.ClipHeader, given || ownHeader(r)
		if owned {
			take = journal.TakeHeader
		}
		reqHeader, headersCut := take(r.Header, lim.Header)
		asIs := owned && headersCut == 0 // reqHeader is r.Header itself
		entry := journal.Hop{Time: began, From: st.from, To: to, Interaction: string(st.in), Name: st.name,
			Method: r.Method, URL: ss.requestURL(r), RequestHeader: reqHeader, HeadersCut: headersCut, TLS: journal.TLSFactsOf(r.TLS)}
		// The journal keeps at most BodyKept of up to 8 MiB read for the
		// mock, which only reads them (Given).
		reqKept := journal.Body{Data: st.body, Encoding: gpc.Get(r.Header, "Content-Encoding"), Given: true}
		if st.in == "" {
			entry.Interaction = st.name
		}
		entry.Step, entry.ReplyStep = steps(st.from, to, st.name, st.in)
		// The live diagram draws the hop in flight from this start until
		// the Record below ends it (the hop carries the start's id).
		entry.Start = ss.Journal.Begin(journal.Start{Time: began, From: st.from, To: to, Step: entry.Step,
			Name: st.name, Method: r.Method, URL: entry.URL})
		defer func() {
			p := recover()
			entry.Duration = time.Since(began)
			entry.Fault = st.fault
			res := journal.Body{}
			if p != nil {
				entry.Error = "connection dropped"
			} else {
				entry.Status, entry.ResponseHeader = tee.status, tee.Header()
				data, given := tee.kept()
				res = journal.Body{Data: data, Encoding: gpc.Get(tee.Header(), "Content-Encoding"), Size: tee.size, Given: given}
				if entry.Status >= 400 {
					entry.Code, _ = gpc.SpineCode(fhirxml.AsJSON(journal.Decode(res, lim.Body)))
				}
				entry.Checks = st.checks()
			}
			st.mu.Lock()
			if st.added != nil && asIs {
				// The SSP's forward added its headers to the map kept:
				// the hop is the map less them, as it was sent.
				entry.RequestHeaderAdded = st.added
			}
			st.mu.Unlock()
			switch {
			case tee.relay != nil:
				ss.Journal.RecordRelay(entry, reqKept, res) // the provider's answer, recorded just before
			case given && (tee.into != nil || ipc.answerOwned) && p == nil:
				ss.Journal.RecordGiven(entry, reqKept, res) // the recorder's header map, which the SSP only reads, or the consumer's own
			default:
				ss.Journal.RecordTaken(entry, reqKept, res)
			}
			ss.observed(&entry)
			if p != nil {
				panic(p)
			}
		}()
		next.ServeHTTP(tee, r)
	})
}

// ownHeader reports whether r's header map was made for r alone by the
// server that read it — net/http's, or Direct's — so that nothing changes
// it once the handlers are done with it. The sandbox's handlers only read a
// request's headers (the SSP forwards a copy); a caller handing ServeHTTP a
// request of its own may change its map afterwards, and its hop keeps a
// copy.
func ownHeader(r *http.Request) bool {
	ctx := r.Context()
	return ctx.Value(http.ServerContextKey) != nil || ctx.Value(directKey{}) != nil
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
func hopName(hop scenario.Hop, names hopNames, r *http.Request) (string, gpc.Interaction) {
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
	if name, ok := names.known[in]; ok {
		return name, in
	}
	return names.unknown, in
}

// hopNames are the names of a GP Connect hop's requests, made once per
// middleware rather than joined per request.
type hopNames struct {
	known   map[gpc.Interaction]string // "ssp.book appointment", ...
	unknown string                     // "ssp.unknown interaction"
}

// namesOf returns hop's names, made once per process: every session
// records the same four hops.
func namesOf(hop scenario.Hop) hopNames {
	if n, ok := hopNamesMade[hop]; ok {
		return n
	}
	return makeNames(hop)
}

var hopNamesMade = func() map[scenario.Hop]hopNames {
	m := map[scenario.Hop]hopNames{}
	for _, hop := range []scenario.Hop{scenario.HopPDS, scenario.HopSDS, scenario.HopSSP, scenario.HopProvider} {
		m[hop] = makeNames(hop)
	}
	return m
}()

func makeNames(hop scenario.Hop) hopNames {
	n := hopNames{known: map[gpc.Interaction]string{}, unknown: string(hop) + ".unknown interaction"}
	for _, in := range gpc.Interactions {
		n.known[in.ID] = string(hop) + "." + in.Name
	}
	return n
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
	// Consumer→SSP, SSP→provider and their replies, as literals: a hop
	// makes no strings of its own for them.
	ids := [4]string{"7a", "7b", "7c", "7d"}
	switch in {
	case gpc.ReadMetadata:
		ids = [4]string{"3a", "3b", "3c", "3d"}
	case gpc.SearchSlots:
		ids = [4]string{"4a", "4b", "4c", "4d"}
	case gpc.SearchPatient:
		ids = [4]string{"5a", "5b", "5c", "5d"}
	case gpc.RegisterPatient:
		// The no-record branch, after find patient (5a–5d).
		ids = [4]string{"5e", "5f", "5g", "5h"}
	case gpc.CreateAppointment:
		ids = [4]string{"6a", "6b", "6c", "6d"}
	}
	if from == journal.SSP {
		return ids[1], ids[2]
	}
	return ids[0], ids[3]
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
	// whole is set by the in-process transport when the answer being
	// relayed was complete before its first byte was copied (inProcess):
	// flushing it write by write would only cost syscalls and chunks.
	whole bool
	// relay is that whole answer's body, which the writes copy in order:
	// the hop keeps the part of it that was written instead of a copy
	// made write by write.
	relay []byte
	// into is the in-process transport's recorder when it is the writer
	// passed through: the body written is its body from the offset from.
	into *recorder
	from int
	// held is the body when it was written whole by WriteKept, bytes that
	// never change: the hop keeps them rather than a copy.
	held []byte
}

// kept is what the hop keeps of the body written: at most limit bytes,
// and whether the journal may keep them rather than a copy (Body.Given):
// once the hop has answered nothing writes to its recorder or its own
// buffer again, and readers of the recorder only read.
func (t *teeWriter) kept() ([]byte, bool) {
	switch {
	case t.relay != nil:
		return t.relay[:min(t.size, int64(t.limit), int64(len(t.relay)))], false // the provider's hop kept it (RecordRelay)
	case t.into != nil:
		b := t.into.bytes()[t.from:]
		return b[:min(t.size, int64(t.limit), int64(len(b)))], t.from == 0
	case t.held != nil:
		return t.held[:min(len(t.held), t.limit)], true
	}
	return t.body.Bytes(), true
}

func (t *teeWriter) WriteHeader(code int) {
	if !t.wroteHeader {
		t.status = code
		t.wroteHeader = true
	}
	t.ResponseWriter.WriteHeader(code)
}

func (t *teeWriter) Write(b []byte) (int, error) {
	t.keep(b)
	return t.ResponseWriter.Write(b)
}

// WriteKept is Write for bytes that never change (kept.Writer): written
// first, they are what the hop keeps, not a copy; and they are handed on
// to be kept downstream too.
func (t *teeWriter) WriteKept(b []byte) (int, error) {
	if t.size == 0 && t.relay == nil && t.into == nil && len(b) > 0 {
		t.wroteHeader = true
		t.size = int64(len(b))
		t.held = b
	} else {
		t.keep(b)
	}
	return kept.Write(t.ResponseWriter, b)
}

// keep notes b written, and copies what the hop keeps of it.
func (t *teeWriter) keep(b []byte) {
	t.wroteHeader = true
	t.size += int64(len(b))
	if t.relay != nil || t.into != nil {
		return // kept has b
	}
	if t.held != nil { // more after bytes held: the hop keeps a copy of both
		t.body.Write(t.held[:min(len(t.held), t.limit)])
		t.held = nil
	}
	if room := t.limit - t.body.Len(); room > 0 {
		t.body.Write(b[:min(room, len(b))])
	}
}

func (t *teeWriter) Flush() {
	if t.whole {
		return
	}
	if f, ok := t.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (t *teeWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }

// recorder is the in-process transport's response writer, and then the
// body of the response it makes; the request's context and the response
// share its allocation.
type recorder struct {
	header http.Header
	status int
	// held is the body when it was written whole by WriteKept, bytes that
	// never change, kept rather than copied into body.
	held []byte
	body bytes.Buffer
	ctx  inProcessContext
	res  http.Response
	rd   bytes.Reader
}

func (r *recorder) Read(p []byte) (int, error) { return r.rd.Read(p) }
func (r *recorder) Close() error               { return nil }

// ReadByte lets a gzip reader read the answer without a buffer of its own
// (flate wraps a reader that is no io.ByteReader in a 4 KiB bufio.Reader).
func (r *recorder) ReadByte() (byte, error) { return r.rd.ReadByte() }

var _ io.ByteReader = (*recorder)(nil)

// WriteTo relays the whole answer in one write (the SSP's io.CopyBuffer).
func (r *recorder) WriteTo(w io.Writer) (int64, error) { return r.rd.WriteTo(w) }

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
	if r.held != nil { // more after bytes held: copy both, never into the held array
		r.body.Write(r.held)
		r.held = nil
	}
	return r.body.Write(b)
}

// WriteKept is Write for bytes that never change (kept.Writer): written
// first, the recorder keeps them rather than a copy.
func (r *recorder) WriteKept(b []byte) (int, error) {
	if r.held != nil || r.body.Len() > 0 || len(b) == 0 {
		return r.Write(b)
	}
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.held = b
	return len(b), nil
}

// bytes is the body written.
func (r *recorder) bytes() []byte {
	if r.held != nil {
		return r.held
	}
	return r.body.Bytes()
}
func (r *recorder) Flush() {}

func (r *recorder) response(req *http.Request) *http.Response {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.rd.Reset(r.bytes())
	r.res = http.Response{
		Status:        http.StatusText(r.status),
		StatusCode:    r.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        r.header,
		Body:          r,
		ContentLength: int64(len(r.bytes())),
		Request:       req,
	}
	return &r.res
}
