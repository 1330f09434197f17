// Package runner runs scenario files end to end: one in-process sandbox, one
// session per scenario, the built-in consumer doing the scenario's `run:`,
// then a verdict against its `expect:` (docs/scenario-format.md, "expect").
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
	// Outcome says how the run ended: "booked", "ok", "none", "cancelled",
	// "amended", or an error "error hop status [code] (reason)".
	Outcome  string
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
		return ran{outcome: scenario.OutcomeNone}, nil
	}
	timeout := r.Timeout.D()
	if timeout <= 0 {
		timeout = 10 * time.Second
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
		HTTPClient: hc, Timeout: timeout, Backoff: 10 * time.Millisecond, Now: now,
	})
	if err != nil {
		return ran{}, err
	}
	// search_windows counts the windows tried after the first;
	// book_retries the bookings after the first.
	req := consumer.BookRequest{NHSNumber: string(r.NHSNumber), ODS: string(r.ODS), Windows: 1 + r.SearchWindows, MaxAttempts: 1 + r.BookRetries}
	if r.Action == "book" {
		req.Description, req.Comment = r.Description, r.Comment
	}
	t0 := now()
	if r.From != nil {
		req.From = r.From.Resolve(t0)
	}
	if r.To != nil {
		from := req.From
		if from.IsZero() {
			from = t0
		}
		req.Days = int(r.To.Resolve(t0).Sub(from).Hours()/24 + 0.5)
		if req.Days < 1 {
			req.Days = 1
		}
	}
	if p := r.Prefer; p != nil {
		if p.Time != nil {
			req.Prefer.At = p.Time.Resolve(t0)
		}
		req.Prefer.Channel = string(p.Channel)
		req.Prefer.PractitionerID = p.Practitioner
		req.Prefer.LocationID = p.Location
	}
	a := action{s: cl.NewSession(), r: r, req: req, limit: 4 * timeout, from: t0, to: t0.AddDate(0, 0, consumer.MaxWindowDays)}
	if r.From != nil {
		a.from = r.From.Resolve(t0)
		a.to = a.from.AddDate(0, 0, consumer.MaxWindowDays)
	}
	if r.To != nil {
		a.to = r.To.Resolve(t0)
	}
	var out ran
	switch r.Action {
	case "slots":
		out = a.slots(ctx)
	case "appointments":
		out = a.appointments(ctx)
	case "cancel", "amend":
		out = a.change(ctx)
	default:
		out = ran{outcome: book(ctx, a.s, req, max(r.Repeat, 1), a.limit)}
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

// ran is how a run ended, and what the slots and appointments actions
// counted (-1 when the action did not count).
type ran struct {
	outcome             string
	slots, appointments int
}

// action is one run of a non-booking action by a consumer session.
type action struct {
	s        *consumer.Session
	r        *scenario.Run
	req      consumer.BookRequest
	limit    time.Duration
	from, to time.Time
}

func failed(err error) ran { return ran{outcome: errorOutcome(err), slots: -1, appointments: -1} }

// slots traces the patient (when named) for their practice, looks the
// practice up on SDS, reads its capability statement and searches free
// slots in the run's window (gpconnect-1.6.md §4.1): ok with slots, none
// without.
func (a action) slots(ctx context.Context) ran {
	ctx, cancel := context.WithTimeout(ctx, a.limit)
	defer cancel()
	ods := string(a.r.ODS)
	if a.r.NHSNumber != "" {
		t, err := a.s.Trace(ctx, string(a.r.NHSNumber), ods != "")
		if err != nil {
			return failed(err)
		}
		if ods == "" {
			ods = t.ODS
		}
	}
	if _, err := a.s.Capability(ctx, ods); err != nil {
		return failed(err)
	}
	res, err := a.s.SearchSlots(ctx, ods, a.from, a.to)
	if err != nil {
		return failed(err)
	}
	out := ran{outcome: scenario.OutcomeOK, slots: len(res.Slots), appointments: -1}
	if len(res.Slots) == 0 {
		out.outcome = scenario.OutcomeNone
	}
	return out
}

// patient traces the patient and finds them at the practice, as the
// consumer must before it can name their appointments (§4.6). No record
// there is the consumer's stop: reason patient-not-found.
func (a action) patient(ctx context.Context) (string, *consumer.ProviderPatient, *ran) {
	t, err := a.s.Trace(ctx, string(a.r.NHSNumber), a.r.ODS != "")
	if err != nil {
		f := failed(err)
		return "", nil, &f
	}
	ods := string(a.r.ODS)
	if ods == "" {
		ods = t.ODS
	}
	p, err := a.s.FindPatient(ctx, ods, t.NHSNumber)
	if err != nil {
		f := failed(err)
		return "", nil, &f
	}
	if p == nil {
		return "", nil, &ran{outcome: formatError(consumer.HopProvider, http.StatusOK, "", reasons[consumer.ErrPatientNotFound]), slots: -1, appointments: -1}
	}
	return ods, p, nil
}

// appointments lists the patient's appointments in the run's window
// (gpconnect-1.6.md §4.6): ok, however many.
func (a action) appointments(ctx context.Context) ran {
	ctx, cancel := context.WithTimeout(ctx, a.limit)
	defer cancel()
	ods, p, stop := a.patient(ctx)
	if stop != nil {
		return *stop
	}
	list, err := a.s.PatientAppointments(ctx, ods, p.ID, a.from, a.to)
	if err != nil {
		return failed(err)
	}
	return ran{outcome: scenario.OutcomeOK, slots: -1, appointments: len(list)}
}

// change cancels or amends an appointment: the one the world holds
// (run.appointment), found through the patient first, or one it books
// (gpconnect-1.6.md §4.4, §4.5).
func (a action) change(ctx context.Context) ran {
	var ods, id string
	if a.r.Appointment != "" {
		pctx, cancel := context.WithTimeout(ctx, a.limit)
		var stop *ran
		ods, _, stop = a.patient(pctx)
		cancel()
		if stop != nil {
			return *stop
		}
		id = a.r.Appointment
	} else {
		bctx, cancel := context.WithTimeout(ctx, a.limit)
		b, err := a.s.Book(bctx, a.req)
		cancel()
		if err != nil {
			return failed(err)
		}
		ods, id = b.ODS, b.Appointment.ID()
	}
	ctx, cancel := context.WithTimeout(ctx, a.limit)
	defer cancel()
	if a.r.Action == "cancel" {
		if _, err := a.s.CancelAppointment(ctx, ods, id, ""); err != nil {
			return failed(err)
		}
		return ran{outcome: scenario.OutcomeCancelled, slots: -1, appointments: -1}
	}
	desc, comment := a.r.Description, a.r.Comment
	if desc == "" && comment == "" {
		comment = "Amended by the spine-sandbox runner"
	}
	if _, err := a.s.AmendAppointment(ctx, ods, id, desc, comment); err != nil {
		return failed(err)
	}
	return ran{outcome: scenario.OutcomeAmended, slots: -1, appointments: -1}
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

// book books repeat times in one consumer session.
func book(ctx context.Context, s *consumer.Session, req consumer.BookRequest, repeat int, limit time.Duration) string {
	outcome := scenario.OutcomeNone
	for range repeat {
		cctx, cancel := context.WithTimeout(ctx, limit)
		_, err := s.Book(cctx, req)
		cancel()
		if err != nil {
			return errorOutcome(err)
		}
		outcome = scenario.OutcomeBooked
	}
	return outcome
}

// reasons names each kind of consumer failure as expect.outcome's
// error.reason does (scenario.Reasons).
var reasons = map[error]string{
	consumer.ErrInvalidNHSNumber: "invalid-nhs-number",
	consumer.ErrPatientNotFound:  "patient-not-found",
	consumer.ErrInvalidated:      "invalidated",
	consumer.ErrDeceased:         "deceased",
	consumer.ErrRestricted:       "restricted",
	consumer.ErrNoPractice:       "no-practice",
	consumer.ErrUnverified:       "unverified",
	consumer.ErrNoEndpoint:       "no-endpoint",
	consumer.ErrNoDevice:         "no-device",
	consumer.ErrCapability:       "capability",
	consumer.ErrSlotTaken:        "slot-taken",
	consumer.ErrBookingUnknown:   "booking-unknown",
	consumer.ErrRemote:           "remote",
	consumer.ErrTransport:        "transport",
	consumer.ErrBadResponse:      "bad-response",
}

// errorOutcome words a consumer error as the outcome it is compared with:
// "error hop status [code] (reason)".
func errorOutcome(err error) string {
	e, ok := consumer.AsError(err)
	if !ok {
		return "error: " + err.Error()
	}
	if e.Kind == consumer.ErrNoSlots {
		return scenario.OutcomeNone
	}
	return formatError(e.Hop, e.Status, e.Code, reasons[e.Kind])
}

// formatError words an error outcome; code and reason may be empty.
func formatError(hop string, status int, code, reason string) string {
	s := fmt.Sprintf("error %s %d", hop, status)
	if code != "" {
		s += " " + code
	}
	if reason != "" {
		s += " (" + reason + ")"
	}
	return s
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
