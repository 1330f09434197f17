// Package runner runs scenario files end to end: one in-process sandbox, one
// session per scenario, the built-in consumer doing the scenario's `run:`,
// then a verdict against its `expect:` (docs/scenario-format.md, "expect").
//
// The run is consumer.Session.Do with the Request the scenario's run:
// makes (request); how it ended is a typed Outcome, compared with
// expect.outcome by Outcome.Matches and worded by Outcome.String. The
// runner reaches the sandbox only through internal/sandbox, never a mocks/*
// package.
package runner

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/consumer"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/journal"
	"github.com/spine-sandbox/spine-sandbox/internal/jwt"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
)

// Options tunes a run.
type Options struct {
	// Parallel is how many scenarios run at once; 0 means GOMAXPROCS.
	Parallel int
	// FixtureDir is where expect.requests bodies and fault fixtures are
	// read from ("fixtures" when empty).
	FixtureDir string
	// TLS runs the scenarios over mutual TLS (run --tls, tls.go): the
	// sandbox with a throw-away PKI, the built-in consumer with the
	// session's certificates. Without it scenarios with run.tls are
	// skipped.
	TLS bool

	tls *tlsRun // set by Run when TLS
	// limits are the sandbox's limits (zero fields take the defaults); a
	// test that reads whole bodies from the journal raises BodyKept.
	limits sandbox.Limits
}

// Failure is one unmet expectation.
type Failure struct {
	Rule    string `json:"rule"`    // outcome, sequence, request, checks.pass, checks.fire, run
	Section string `json:"section"` // where the rule is documented
	Message string `json:"message"`
	Diff    string `json:"diff,omitempty"` // optional, multi-line
}

// Result is the verdict on one scenario.
type Result struct {
	Scenario *scenario.Scenario
	Passed   bool
	Failures []Failure
	Hops     []journal.Hop
	// Outcome says how the run ended (its String: "booked", "ok", "none",
	// "cancelled", "amended", or "error hop status [code] (reason)").
	Outcome  Outcome
	Duration time.Duration
	// Skipped, when not "", says why the scenario was not run (SkipReason):
	// it neither passed nor failed.
	Skipped string
}

// takeHeader marks the runner's own request that takes a slot before the
// consumer books it; hops carrying it are left out of the sequence.
const takeHeader = "X-Spine-Sandbox-Runner"

// Run runs every scenario in its own session of one in-process sandbox and
// returns the results in the order given.
func Run(ctx context.Context, scenarios []*scenario.Scenario, opts Options) []Result {
	if opts.Parallel <= 0 {
		opts.Parallel = runtime.GOMAXPROCS(0)
	}
	if opts.FixtureDir == "" {
		opts.FixtureDir = "fixtures"
	}
	results := make([]Result, len(scenarios))
	// The sandbox needs its public URL before it serves, so the listener
	// (127.0.0.1, any port) is made first and the handler set after.
	ts := httptest.NewUnstartedServer(nil)
	cfg := sandbox.Config{PublicURL: "http://" + ts.Listener.Addr().String(), FixtureDir: opts.FixtureDir, Limits: opts.limits}
	var err error
	if opts.TLS {
		if opts.tls, err = newTLSRun(); err == nil {
			defer opts.tls.close()
			cfg.TLS = opts.tls.sandbox
			cfg.PublicURL = "https://" + ts.Listener.Addr().String()
			ts.TLS = opts.tls.server
		}
	}
	var srv *sandbox.Server
	if err == nil {
		srv, err = sandbox.New(cfg)
	}
	if err != nil {
		ts.Listener.Close()
		for i, sc := range scenarios {
			results[i] = Result{Scenario: sc, Failures: []Failure{{Rule: "run", Message: "sandbox: " + err.Error()}}}
		}
		return results
	}
	defer srv.Close()
	ts.Config.Handler = srv
	if opts.TLS {
		ts.StartTLS()
	} else {
		ts.Start()
	}
	defer ts.Close()
	// The SDS LDAP directory, for scenarios with run.sds: ldap.
	if addr, stop, err := startLDAP(srv); err == nil {
		defer stop()
		ctx = WithLDAPAddr(ctx, addr)
	}
	// One transport for every consumer: the default keeps only two idle
	// connections per host, which parallel scenarios would churn.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	defer tr.CloseIdleConnections()
	if opts.tls != nil {
		opts.tls.base = tr
	}

	sem := make(chan struct{}, opts.Parallel)
	var wg sync.WaitGroup
	for i, sc := range scenarios {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			results[i] = runOne(ctx, srv, tr, sc, opts)
		}()
	}
	wg.Wait()
	return results
}

func runOne(ctx context.Context, srv *sandbox.Server, tr http.RoundTripper, sc *scenario.Scenario, opts Options) Result {
	began := time.Now()
	res := Result{Scenario: sc}
	if res.Skipped = SkipReason(sc, opts); res.Skipped != "" {
		return res
	}
	ss, err := srv.CreateSession("", sc)
	if err != nil {
		res.Failures = []Failure{{Rule: "run", Section: "scenario-format §run", Message: "session: " + err.Error()}}
		res.Duration = time.Since(began)
		return res
	}
	defer srv.DeleteSession(ss.ID)
	if opts.tls != nil {
		if tr, err = opts.tls.transport(sc, ss.World); err != nil {
			res.Failures = []Failure{{Rule: "run", Section: "scenario-format §run", Message: "run --tls: " + err.Error()}}
			res.Duration = time.Since(began)
			return res
		}
	}
	out, runErr := drive(ctx, ss, tr, sc)
	res.Outcome = out.outcome
	res.Hops = ss.Journal.Hops()
	if runErr != nil {
		res.Failures = append(res.Failures, Failure{Rule: "run", Section: "scenario-format §run", Message: runErr.Error()})
	}
	res.Failures = append(res.Failures, verdict(sc, out.outcome, res.Hops, opts.FixtureDir)...)
	res.Failures = append(res.Failures, countVerdicts(sc, out)...)
	res.Passed = len(res.Failures) == 0
	res.Duration = time.Since(began)
	return res
}

// drive makes the built-in consumer do the scenario's run and reports how
// it ended. The error is for a run that could not start at all.
func drive(ctx context.Context, ss *sandbox.Session, tr http.RoundTripper, sc *scenario.Scenario) (ran, error) {
	r := sc.Run
	if r == nil || r.Consumer == "external" {
		return ran{outcome: outcomeKind(scenario.OutcomeNone), slots: -1, appointments: -1}, nil
	}
	u := ss.URLs()
	if err := ldapSDS(ctx, ss, r, &u); err != nil {
		return ran{}, err
	}
	var tamper *tamperer
	if len(r.Tamper) > 0 {
		tamper = newTamperer(tr, u.PDS, u.SDS, u.SSP, r.Tamper)
		tr = tamper
	}
	hc := &http.Client{Transport: tr}
	if r.TakeSlotBeforeBook {
		hc.Transport = &slotTaker{next: tr}
	}
	now := ss.World.Now
	// The built-in consumer is the scenario's consumer system: its ASID on
	// every Ssp-From, its organisation in every JWT and booking.
	me := ss.World.Consumer()
	orgName := me.Name
	if orgName == "" {
		orgName = me.ODS
	}
	cl, err := consumer.New(consumer.Config{
		PDS: u.PDS, SDS: u.SDS, SSP: u.SSP, ASID: me.ASID,
		Identity: jwt.Identity{
			Issuer: "https://spine-sandbox-runner.invalid/", DeviceID: "spine-sandbox-run", DeviceModel: "spine-sandbox run", DeviceVersion: "1.0.0",
			OrgODS: me.ODS, OrgName: orgName, PractitionerID: "1",
			SDSUserID: "UNK", Family: "Sandbox", Given: []string{"Sam"}, Prefix: []string{"Dr"},
		},
		HTTPClient: hc, Timeout: timeout(r), Backoff: 10 * time.Millisecond, Now: now,
	})
	if err != nil {
		return ran{}, err
	}
	s := cl.NewSession()
	res, err := s.Do(ctx, request(r, now()))
	out := ran{outcome: outcomeKind(scenario.OutcomeNone), slots: -1, appointments: -1}
	switch {
	case err != nil:
		out.outcome = errorOutcome(err)
	case r.Action == consumer.ActionSlots:
		out.outcome, out.slots = outcomeKind(scenario.OutcomeOK), len(res.Slots)
		if len(res.Slots) == 0 {
			out.outcome = outcomeKind(scenario.OutcomeNone)
		}
	case r.Action == consumer.ActionAppointments:
		out.outcome, out.appointments = outcomeKind(scenario.OutcomeOK), len(res.Appointments)
	case r.Action == consumer.ActionCancel:
		out.outcome = outcomeKind(scenario.OutcomeCancelled)
	case r.Action == consumer.ActionAmend:
		out.outcome = outcomeKind(scenario.OutcomeAmended)
	default:
		out.outcome = outcomeKind(scenario.OutcomeBooked)
	}
	if tamper != nil {
		// A tamper that could not apply, or never applied, makes the run
		// prove nothing: that is the scenario's failure, not an outcome.
		if err := tamper.Err(); err != nil {
			return out, err
		}
	}
	return out, nil
}

// request is the consumer's request for a scenario's run, its relative
// dates resolved at t0: the options gpc-consumer's flags give too (only
// the wording differs: search_windows counts the windows after the first,
// --windows all of them; book_retries the bookings after the first).
func request(r *scenario.Run, t0 time.Time) consumer.Request {
	req := consumer.Request{Action: string(r.Action), NHSNumber: string(r.NHSNumber), ODS: string(r.ODS),
		Windows: 1 + r.SearchWindows, MaxAttempts: 1 + r.BookRetries, Repeat: r.Repeat,
		Description: r.Description, Comment: r.Comment, AppointmentID: r.Appointment, Limit: 4 * timeout(r)}
	if req.Action == "" {
		req.Action = consumer.ActionBook
	}
	if req.Action == consumer.ActionAmend && req.Description == "" && req.Comment == "" {
		req.Comment = "Amended by the spine-sandbox runner"
	}
	if r.From != nil {
		req.From = r.From.Resolve(t0)
	}
	if r.To != nil {
		req.To = r.To.Resolve(t0)
	}
	if p := r.Prefer; p != nil {
		if p.Time != nil {
			req.Prefer.At = p.Time.Resolve(t0)
		}
		req.Prefer.Channel = string(p.Channel)
		req.Prefer.PractitionerID = p.Practitioner
		req.Prefer.LocationID = p.Location
	}
	return req
}

// timeout is the run's timeout of each HTTP call (10s when not given).
func timeout(r *scenario.Run) time.Duration {
	if d := r.Timeout.D(); d > 0 {
		return d
	}
	return 10 * time.Second
}

// ran is how a run ended, and what the slots and appointments actions
// counted (-1 when the action did not count).
type ran struct {
	outcome             Outcome
	slots, appointments int
}

// countVerdicts compares expect.slots and expect.appointments with what
// the action counted.
func countVerdicts(sc *scenario.Scenario, out ran) []Failure {
	ex := sc.Expect
	if ex == nil {
		return nil
	}
	var fs []Failure
	for _, c := range []struct {
		what string
		want *int
		got  int
	}{{"slots", ex.Slots, out.slots}, {"appointments", ex.Appointments, out.appointments}} {
		if c.want == nil || *c.want == c.got {
			continue
		}
		got := fmt.Sprint(c.got)
		if c.got < 0 {
			got = "none counted (the action stopped first)"
		}
		fs = append(fs, Failure{Rule: c.what, Section: "scenario-format §expect." + c.what,
			Message: fmt.Sprintf("want %d, got %s", *c.want, got)})
	}
	return fs
}

// slotTaker sends the consumer's first booking once on its own, marked, so
// the slot is taken by "another client" when the consumer's own booking
// arrives (the 409 DUPLICATE_REJECTED branch of gpconnect-1.6.md §4.2).
type slotTaker struct {
	next http.RoundTripper
	once sync.Once
}

func (t *slotTaker) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method != http.MethodPost || strings.Join(r.Header["Ssp-InteractionID"], "") != string(gpc.CreateAppointment) {
		return t.next.RoundTrip(r)
	}
	var err error
	t.once.Do(func() {
		var body []byte
		if r.Body != nil {
			if body, err = io.ReadAll(r.Body); err != nil {
				return
			}
			r.Body.Close()
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		cp := r.Clone(r.Context())
		cp.Body = io.NopCloser(bytes.NewReader(body))
		cp.ContentLength = int64(len(body))
		cp.Header.Set(takeHeader, "take-slot")
		// Another client sends its own Ssp-TraceID (gpconnect-1.6.md
		// §1.3): a copy of the consumer's would make the consumer's own
		// booking a reuse, which strict mode refuses.
		setHeader(cp.Header, "Ssp-TraceID", gpc.NewUUID())
		resp, rerr := t.next.RoundTrip(cp)
		if rerr != nil {
			err = rerr
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	})
	if err != nil {
		return nil, err
	}
	return t.next.RoundTrip(r)
}
