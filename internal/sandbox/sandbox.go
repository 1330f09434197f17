// Package sandbox wires the mocks into one server: it keeps one world and
// one journal per session, routes the service paths (PDS, SDS, SSP,
// provider) to the session's mocks — at the root for session "default" and
// under /s/{id}/ for the others —, applies the scenario's faults, records
// every hop, and serves the admin API.
//
// It is the only package that imports the mocks (TestImportLayers). Each
// mock judges its own requests and writes its own errors; the sandbox
// wraps each in small middlewares (session.go: journal, judge, refusals,
// faults) and hands the SSP a transport that calls the session's own
// recording provider handler in process, never the router again.
package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
	"github.com/spine-sandbox/spine-sandbox/mocks/pds"
	"github.com/spine-sandbox/spine-sandbox/mocks/provider"
	"github.com/spine-sandbox/spine-sandbox/mocks/sds"
	"github.com/spine-sandbox/spine-sandbox/mocks/ssp"
)

// The service base paths, as on real Spine.
const (
	PDSPath      = pds.BasePath // /personal-demographics/FHIR/R4
	SDSPath      = sds.BasePath // /spine-directory/FHIR/R4
	SSPPath      = "/ssp/"
	ProviderPath = "/provider"
	AdminPath    = "/_admin/"
	// DefaultSession is the id of the session the root paths reach.
	DefaultSession = "default"
)

// Config configures a Server.
type Config struct {
	// PublicURL is how consumers reach the sandbox (no trailing slash); the
	// service roots SDS hands out are built from it.
	PublicURL string
	// FollowClient builds the URLs answering a request on the origin it
	// was addressed to (its Host), PublicURL serving only requests without
	// a usable one (origin.go); serve does so without --public-url.
	FollowClient bool
	// TrustForwarded, with FollowClient, takes the origin from
	// X-Forwarded-Proto and X-Forwarded-Host when a request has them:
	// only for a sandbox reachable solely through a proxy that sets them.
	TrustForwarded bool
	// Lenient makes every session record failed SSP checks and forward
	// anyway, instead of answering as Spine would.
	Lenient bool
	// ScenarioDir is where POST /_admin/sessions finds scenarios by name.
	ScenarioDir string
	// FixtureDir is where fault bodies given as `fixture:` are read from.
	FixtureDir string
	// Default is the scenario of session "default"; nil means the built-in
	// world.
	Default *scenario.Scenario
	// Clock is the time source; nil means time.Now.
	Clock func() time.Time
	// Logger receives what the sandbox logs — a run that failed, an idle
	// session removed, an admin handler's bug, metrics errors — and what
	// the mocks it builds log (their own 500s); nil discards it all.
	// Nothing in the sandbox logs through the global log package.
	Logger *slog.Logger
	// Limits bound what the sandbox accepts and keeps (limits.go); zero
	// fields take DefaultLimits.
	Limits Limits
	// Upstreams are the hosts and address ranges the SSP may forward to
	// over the network (serve --upstream); the sandbox's own provider is
	// always allowed, in process, and nothing else is (upstream.go).
	Upstreams []Upstream
	// AdminToken, when set, is the bearer token every /_admin request but
	// GET /_admin/health must carry (guard.go).
	AdminToken string
	// UI, when set, serves "/" and the page's assets.
	UI http.Handler
	// Verdict, when set, judges a session against its scenario's
	// expectations for GET /_admin/sessions/{id}/verdict. (The runner does
	// the judging and imports this package, so it is handed in.)
	Verdict func(*Session) any
	// Run, when set, makes the built-in consumer do a session's scenario
	// `run:` for POST /_admin/sessions/{id}/run (the live diagram's "Run
	// scenario" button). The runner drives the consumer and imports this
	// package, so it is handed in like Verdict.
	Run func(ctx context.Context, ss *Session) error
	// TLS, when set, requires client certificates on PDS, SDS, the SSP and
	// the provider and gives the SSP its own towards external providers
	// (tls.go). The listener's TLS is the caller's.
	TLS *TLSConfig
}

// Server is the sandbox: an http.Handler serving every session.
type Server struct {
	cfg    Config
	public *url.URL
	admin  http.Handler
	// upstreams and network are how the SSP reaches providers that are
	// not the sandbox's own (upstream.go).
	upstreams upstreams
	network   *http.Transport
	// proxyOwn, set by tests only, has the SSP forward to the sandbox's
	// own provider through ReverseProxy, as to a network upstream, for
	// comparing that path with its direct call (ssp.Local).
	proxyOwn bool
	runs     runTracker

	// ctx lives as long as the server: Close cancels it, which ends event
	// streams and the built-in consumer's runs.
	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.RWMutex
	sessions map[string]*Session
	// reserved holds the ids of sessions being built, with their slot
	// counts: each counts against MaxSessions and MaxSlotsTotal from the
	// moment it is accepted, so concurrent creates cannot together pass
	// the caps while their worlds build outside the lock.
	reserved map[string]int
	// slots is how many slots the sessions in sessions and reserved hold.
	slots int

	// draining is set by Drain (scaleout.go) on SIGTERM.
	draining atomic.Bool
	// metrics count what the sessions record (metrics.go).
	metrics *metrics

	// janitorDone is closed when the idle janitor (ttl.go) has stopped.
	janitorDone chan struct{}
	// templates are the scenarios' worlds sessions start from, parsed the
	// scenarios the admin API loaded (templates.go).
	templates templates
	parsed    parsed
}

// New builds a Server with its default session.
func New(cfg Config) (*Server, error) {
	cfg.PublicURL = strings.TrimSuffix(cfg.PublicURL, "/")
	u, err := url.Parse(cfg.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("public URL %q: want scheme://host[:port] with no path", cfg.PublicURL)
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Default == nil {
		cfg.Default = scenario.Default()
	}
	cfg.Limits = cfg.Limits.withDefaults()
	s := &Server{cfg: cfg, public: u, sessions: map[string]*Session{}, reserved: map[string]int{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.upstreams = upstreams(cfg.Upstreams)
	s.network = newNetworkTransport(s.upstreams)
	s.configureTLS()
	s.metrics = newMetrics(s)
	s.admin = s.guard(s.adminRoutes())
	if _, err := s.CreateSession(DefaultSession, cfg.Default); err != nil {
		s.cancel()
		return nil, fmt.Errorf("default session: %w", err)
	}
	s.janitorDone = make(chan struct{})
	tick := time.NewTicker(janitorTick(cfg.Limits.SessionTTL))
	go s.janitor(tick)
	return s, nil
}

// Close ends what the server runs of its own accord: live event streams,
// the built-in consumer's runs (cancelled, and waited for) and background
// work. Requests in flight are the http.Server's to drain (Shutdown); call
// Close before that so streams that never end by themselves do not hold it
// up. Close may be called more than once.
func (s *Server) Close() error {
	s.cancel()
	if s.janitorDone != nil {
		<-s.janitorDone
	}
	s.runs.closeAndWait()
	s.network.CloseIdleConnections()
	return nil
}

// Limits returns the limits the server runs with, defaults filled in.
func (s *Server) Limits() Limits { return s.cfg.Limits }

// PublicURL returns the sandbox's public base URL.
func (s *Server) PublicURL() string { return s.cfg.PublicURL }

// Session returns the session with the given id.
func (s *Server) Session(id string) (*Session, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ss, ok := s.sessions[id]
	return ss, ok
}

// Sessions returns every session, oldest first.
func (s *Server) Sessions() []*Session {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*Session, 0, len(s.sessions))
	for _, ss := range s.sessions {
		out = append(out, ss)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out
}

// ErrTooManySessions is returned when Limits.MaxSessions are open.
var ErrTooManySessions = errors.New("too many sessions: delete some first")

// ErrTooManySlots is returned when a session's world would take the
// sandbox past Limits.MaxSlotsTotal.
var ErrTooManySlots = errors.New("too many slots across the sandbox's sessions")

// CreateSession starts a session running sc. An empty id gets a random one.
// The cap (Limits.MaxSessions) is checked, and a place reserved, before the
// world is built: a refusal costs nothing, and concurrent creates never
// pass the cap between them.
func (s *Server) CreateSession(id string, sc *scenario.Scenario) (*Session, error) {
	if id == "" {
		id = newID()
	}
	s.mu.Lock()
	_, reserving := s.reserved[id]
	if _, taken := s.sessions[id]; taken || reserving {
		s.mu.Unlock()
		return nil, fmt.Errorf("session %q exists", id)
	}
	if len(s.sessions)+len(s.reserved) >= s.cfg.Limits.MaxSessions {
		s.mu.Unlock()
		return nil, ErrTooManySessions
	}
	n := sc.SlotCount()
	if limit := s.cfg.Limits.MaxSlotsTotal; n > limit-s.slots {
		held := s.slots
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: the open sessions hold %d, this scenario's world %d, the limit is %d (serve --max-slots-total); delete sessions first",
			ErrTooManySlots, held, n, limit)
	}
	s.reserved[id] = n
	s.slots += n
	s.mu.Unlock()

	ss, err := s.build(id, sc)
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.reserved, id)
	if err != nil {
		s.slots -= n
		return nil, err
	}
	ss.slotCount = n
	s.sessions[id] = ss
	return ss, nil
}

// full reports whether a create would be refused for the cap right now: a
// cheap early answer before a request body is read or parsed. CreateSession
// still decides.
func (s *Server) full() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.sessions)+len(s.reserved) >= s.cfg.Limits.MaxSessions
}

// build makes a session and starts its idle clock.
func (s *Server) build(id string, sc *scenario.Scenario) (*Session, error) {
	ss, err := s.newSession(id, sc)
	if err != nil {
		return nil, err
	}
	ss.ttl = s.cfg.Limits.SessionTTL
	ss.metrics = s.metrics
	ss.lastUsed.Store(ss.Created.UnixNano())
	return ss, nil
}

// DeleteSession removes a session; the default session is reset instead.
func (s *Server) DeleteSession(id string) bool {
	return s.removeSession(id, nil)
}

// removeSession removes (or, for the default session, resets) session id
// if it exists and, when remove is not nil, remove says so under the lock,
// so the janitor never removes a session a request used since it looked.
func (s *Server) removeSession(id string, remove func(*Session) bool) bool {
	s.mu.Lock()
	ss, ok := s.sessions[id]
	if ok && remove != nil && !remove(ss) {
		ok = false
	}
	if ok && id != DefaultSession {
		delete(s.sessions, id)
		s.slots -= ss.slotCount
	}
	s.mu.Unlock()
	gone := ok && id != DefaultSession
	if ok && id == DefaultSession {
		if fresh, err := s.build(DefaultSession, s.cfg.Default); err == nil {
			fresh.slotCount = ss.slotCount // the same scenario, already counted
			s.mu.Lock()
			s.sessions[DefaultSession] = fresh
			s.mu.Unlock()
			gone = true
		}
	}
	if gone {
		ss.close() // its run, if any, ends with it
	}
	return ok
}

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ServeHTTP routes a request to the admin API or to a session's services.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r = s.withOrigin(r)
	path := r.URL.Path
	if s.uiLogin(w, r) {
		return
	}
	if strings.HasPrefix(path, AdminPath) || path == strings.TrimSuffix(AdminPath, "/") {
		s.admin.ServeHTTP(w, r)
		return
	}
	id, prefix := DefaultSession, ""
	if rest, ok := strings.CutPrefix(path, "/s/"); ok {
		id, _, _ = strings.Cut(rest, "/")
		prefix = "/s/" + id
		if id == DefaultSession {
			// The default session's mocks are mounted at the root; under
			// /s/default/ their prefixes would not match and StripPrefix
			// would answer a plain-text 404.
			writeJSONError(w, http.StatusNotFound, `session "default" is served at the root paths, not under /s/default/`)
			return
		}
	}
	ss, ok := s.Session(id)
	if !ok {
		writeJSONError(w, http.StatusNotFound, fmt.Sprintf("no session %q", id))
		return
	}
	s.touch(ss)
	ss.serve(w, r, strings.TrimPrefix(path, prefix))
}

// inProcessKey marks a request the SSP forwarded in process; its value is
// the request's *inProcessContext.
type inProcessKey struct{}

// inProcessContext is the context of a request the SSP forwards in
// process: it is marked (inProcessKey) and carries the origin the SSP
// forwarded to (originKey), in the recorder's allocation rather than in
// two more contexts per request.
type inProcessContext struct {
	context.Context
	origin any // a string, boxed once
	// given says the SSP changes neither the request's header map nor its
	// answer's after sending it (ssp.ForwardedLocally), so the provider's
	// hop keeps them as they are rather than copies (journal.RecordGiven).
	given bool
	// parsed is the judge's parse of the request (provider.ParsedKey), or
	// nil.
	parsed *provider.Parsed
	// hop is the provider's hop (journalHop), in the same allocation and
	// found through this context (hopKey) once begun, so the hop needs no
	// context and no request copy of its own.
	hop      hopState
	hopBegun bool
	// answerOwned says the provider writes its answer straight into the
	// consumer's (ServeThrough), whose header map net/http's server made
	// and nobody changes after: the provider's hop keeps it as it is.
	answerOwned bool
}

// inProcessOf is the in-process context r was forwarded with, or nil.
func inProcessOf(r *http.Request) *inProcessContext {
	c, _ := r.Context().Value(inProcessKey{}).(*inProcessContext)
	return c
}

func (c *inProcessContext) Value(key any) any {
	switch key.(type) {
	case inProcessKey:
		return c
	case originKey:
		return c.origin
	case provider.ParsedKey:
		return c.parsed
	case hopKey:
		if c.hopBegun {
			return &c.hop
		}
	}
	return c.Context.Value(key)
}

// inProcess is one session's SSP transport: it forwards to the session's
// own provider by calling that provider's recording handler (the session's
// middlewares around mocks/provider) without a network hop and without
// going back through the Server's router, and to other hosts over the
// network, through the upstream guard (upstream.go).
type inProcess struct {
	s  *Server
	ss *Session
	// provider is the path prefix of the session's own provider
	// ("/provider/" or "/s/{id}/provider/"): on the sandbox's own host the
	// SSP reaches that and nothing else — not the admin API, not another
	// session — whatever a scenario's endpoint says.
	provider string
	// lastOrigin is the origin made for the last forward's host (origin).
	lastOrigin atomic.Pointer[boxedOrigin]
}

// origin is u's scheme and host, lower-cased, boxed for originKey: the
// same for every forward to the session's provider, so made once per
// host rather than per request.
func (t *inProcess) origin(u *url.URL) any {
	if o := t.lastOrigin.Load(); o != nil && o.scheme == u.Scheme && o.host == u.Host {
		return o.boxed
	}
	o := &boxedOrigin{scheme: u.Scheme, host: u.Host, boxed: u.Scheme + "://" + strings.ToLower(u.Host)}
	t.lastOrigin.Store(o)
	return o.boxed
}

// boxedOrigin is an origin made for a scheme and host (inProcess.origin).
type boxedOrigin struct {
	scheme, host string
	boxed        any
}

// errNotOwnProvider refuses an in-process forward outside the session's
// provider; the SSP answers it as an unreachable provider (502).
var errNotOwnProvider = errors.New("spine-sandbox: on the sandbox itself the SSP forwards only to the session's own provider")

// Serves reports whether RoundTrip serves u in process (ssp.Local): the
// sandbox's own origin. Everything else goes over the network.
func (t *inProcess) Serves(ctx context.Context, u *url.URL) bool {
	return t.s.ownOrigin(ctx, u.Scheme, u.Host)
}

// RoundTrip serves an in-process forward into a buffer, the provider's
// journal hop recorded before the SSP copies a byte back, and tells the
// SSP's hop not to flush that answer write by write.
func (t *inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	if !t.Serves(req.Context(), req.URL) {
		return t.s.network.RoundTrip(req)
	}
	rec := newRecorder()
	in, err := t.forward(req, &rec.ctx)
	if err != nil {
		return nil, err
	}
	if err := serveRecover(t.ss.mocksFor(in).provider, rec, in); err != nil {
		return nil, err
	}
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	// The SSP streams a network provider's answer write by write (§1.1);
	// this one is already whole, so the SSP's hop writes it unflushed.
	if st := hopOf(req); st != nil {
		st.tee.whole = true
		st.tee.relay = rec.bytes() // the SSP copies it unchanged (§1.1)
	}
	return rec.response(req), nil
}

// ServeThrough serves an in-process forward straight into the SSP's answer
// (ssp.Through), which the SSP calls instead of RoundTrip: no buffer, no
// response and no copy of the answer's headers or bytes. The provider's
// hop keeps the answer's bytes, and the SSP's hop shares them
// (RecordRelay) rather than copying them as they pass. The provider's
// headers are written into the consumer's answer: when net/http's server
// made that map, nobody changes it after, and the provider's hop keeps it
// as it is (inProcessContext.answerOwned); the answer Direct makes is its
// caller's to change, and the hop keeps a copy.
func (t *inProcess) ServeThrough(w http.ResponseWriter, req *http.Request, added []string) error {
	st := hopOf(req)
	if st != nil && added != nil {
		st.mu.Lock()
		st.added = added // the consumer's hop is the map less these (journalHop)
		st.mu.Unlock()
	}
	ctx := &inProcessContext{answerOwned: req.Context().Value(http.ServerContextKey) != nil}
	in, err := t.forward(req, ctx)
	if err != nil {
		return err
	}
	if st != nil {
		st.tee.relay = noBytes // the provider's hop keeps what passes
	}
	if err := serveRecover(t.ss.mocksFor(in).provider, w, in); err != nil {
		if st != nil {
			st.tee.relay = nil
		}
		return err
	}
	if st != nil {
		st.tee.relay = nil
		if ctx.hopBegun {
			st.tee.relay, _ = ctx.hop.tee.kept()
		}
	}
	return nil
}

// InPlace reports whether the SSP may forward r with its own header map
// (ssp.Through): when r came to the sandbox straight from a net/http server
// whose whole handler it is, or from Direct, nobody reads r's map after but
// the SSP's hop, which ServeThrough tells what the SSP added. A handler
// wrapped in someone else's may not change its request: they may read it
// after.
func (t *inProcess) InPlace(r *http.Request) bool {
	ctx := r.Context()
	if hs, ok := ctx.Value(http.ServerContextKey).(*http.Server); ok {
		h, ok := hs.Handler.(*Server)
		return ok && h == t.s
	}
	return ctx.Value(directKey{}) != nil
}

var _ ssp.Through = (*inProcess)(nil)

// noBytes is a relay of nothing yet: a teeWriter keeps no copy of what it
// passes while its relay is set.
var noBytes = []byte{}

// forward is the request the session's provider gets for req, an
// in-process forward to the sandbox's own host, with ctx its context: the
// provider sees the origin the SSP forwarded to (origin.go), and reads the
// request from the judge's parse of it, when the SSP's hop has one
// (parseRequest; the provider checks it is this request's). Anything
// outside the session's provider is refused.
func (t *inProcess) forward(req *http.Request, ctx *inProcessContext) (*http.Request, error) {
	if ep := req.URL.EscapedPath(); !underProvider(req.URL.Path, t.provider) || ep != req.URL.Path && !underProvider(ep, t.provider) {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, errNotOwnProvider
	}
	ctx.Context, ctx.origin, ctx.given = req.Context(), t.origin(req.URL), ssp.ForwardedLocally(req.Context())
	if st := hopOf(req); st != nil {
		st.mu.Lock()
		ctx.parsed = st.parsed
		st.mu.Unlock()
	}
	in := req.WithContext(ctx)
	in.RequestURI = req.URL.RequestURI()
	in.Host = req.URL.Host
	in.RemoteAddr = "127.0.0.1:0"
	if in.Body == nil {
		in.Body = http.NoBody
	}
	// What the router would do for this path: the view of the session at
	// the origin, the provider with its mount prefix removed.
	prefix := strings.TrimSuffix(t.provider, "/")
	in.URL = new(url.URL)
	*in.URL = *req.URL
	in.URL.Path = strings.TrimPrefix(req.URL.Path, prefix)
	in.URL.RawPath = strings.TrimPrefix(req.URL.RawPath, prefix)
	return in, nil
}

// serveRecover runs h, turning an aborted handler (a dropped connection
// fault) into an error as a network client would see it.
func serveRecover(h http.Handler, w http.ResponseWriter, r *http.Request) (err error) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				// A handler that gave up because the caller's deadline
				// passed is a timeout to the caller (the SSP answers
				// 504), not a closed connection (502).
				if cerr := r.Context().Err(); cerr != nil {
					err = cerr
					return
				}
				err = errors.New("connection closed by the provider")
				return
			}
			panic(v)
		}
	}()
	h.ServeHTTP(w, r)
	return nil
}
