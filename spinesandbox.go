// Package spinesandbox runs the spine-sandbox — a simulated NHS Spine for GP
// Connect 1.6: PDS, SDS (FHIR and, optionally, LDAP), the Spine Secure Proxy
// and a GP Connect provider — inside a Go program or test, so a consumer in
// another module can be tested against it without a container.
//
// In a test:
//
//	func TestBooking(t *testing.T) {
//		sb := spinesandbox.Start(t, spinesandbox.WithScenarioFile("testdata/deceased.yaml"))
//		runMyConsumer(sb.PDSURL(), sb.SDSURL(), sb.SSPURL(), sb.Consumer().ASID)
//		if v := sb.Verdict(); !v.Passed {
//			t.Fatalf("verdict: %+v", v)
//		}
//	}
//
// Start listens on 127.0.0.1 on a free port and stops when the test ends;
// New does the same for programs, which call Close. Each Sandbox serves one
// session of one scenario (the built-in world unless an option names
// another); its journal records every hop the consumer and the SSP make.
package spinesandbox

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/consumer"
	"github.com/spine-sandbox/spine-sandbox/internal/journal"
	"github.com/spine-sandbox/spine-sandbox/internal/jwt"
	"github.com/spine-sandbox/spine-sandbox/internal/runner"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
	"github.com/spine-sandbox/spine-sandbox/mocks/sdsldap"
)

// Hop is one request and its answer between two parties, as the journal
// recorded it: From and To are "consumer", "pds", "sds", "ssp" or
// "provider"; Name is the short name reports use ("pds.retrieve",
// "ssp.book appointment").
type Hop = journal.Hop

// Option configures a Sandbox.
type Option func(*options)

type options struct {
	scenarioFile string
	scenarioYAML []byte
	scenarioName string
	scenarioDir  string
	fixtureDir   string
	lenient      bool
	ldap         bool
	tls          bool
	upstreams    []string
	// configure lets the repository's own tests set sandbox.Config fields
	// no option exposes (internal/sandbox/sandboxtest).
	configure []func(*sandbox.Config)
}

// WithScenarioFile runs the scenario in the YAML file at path.
func WithScenarioFile(path string) Option { return func(o *options) { o.scenarioFile = path } }

// WithScenarioYAML runs the scenario given as YAML text.
func WithScenarioYAML(yaml []byte) Option {
	return func(o *options) { o.scenarioYAML = append([]byte(nil), yaml...) }
}

// WithScenario runs a scenario by name: "builtin" (the default) is the
// built-in world; any other name is a file under the scenario folder
// (WithScenarioDir), with or without ".yaml".
func WithScenario(name string) Option { return func(o *options) { o.scenarioName = name } }

// WithScenarioDir is the folder WithScenario finds names in; "scenarios"
// when not given (the repository's own folder when run from its root).
func WithScenarioDir(dir string) Option { return func(o *options) { o.scenarioDir = dir } }

// WithFixtureDir is where a scenario's `fixture:` fault bodies and expected
// request bodies are read from; "fixtures" when not given.
func WithFixtureDir(dir string) Option { return func(o *options) { o.fixtureDir = dir } }

// Lenient makes the SSP record its failed checks and forward anyway,
// instead of refusing as Spine would. Strict is the default.
func Lenient() Option { return func(o *options) { o.lenient = true } }

// WithLDAP also serves SDS's LDAP directory on 127.0.0.1 (LDAPURL).
func WithLDAP() Option { return func(o *options) { o.ldap = true } }

// WithUpstreams allows the SSP to forward to these hosts over the network
// (HOST[:PORT], IP[:PORT] or a CIDR), for scenarios whose practices name an
// endpoint outside the sandbox, as `serve --upstream` does.
func WithUpstreams(hosts ...string) Option {
	return func(o *options) { o.upstreams = append(o.upstreams, hosts...) }
}

// Sandbox is a running sandbox and the session it serves.
type Sandbox struct {
	url      string
	srv      *sandbox.Server
	hs       *http.Server
	ln       net.Listener
	served   chan error
	sc       *scenario.Scenario
	fixtures string
	id       string // the session's id

	ldapAddr string
	ldap     *sdsldap.Server
	ldapDone chan error

	cert *x509.Certificate // with WithTLS (tls.go)

	mu        sync.Mutex // guards closed and, across Reset, the session
	closed    bool
	closeErrs error
}

// Start runs a sandbox for the test and stops it when the test ends;
// a sandbox that cannot start fails the test.
func Start(t testing.TB, opts ...Option) *Sandbox {
	t.Helper()
	sb, err := New(opts...)
	if err != nil {
		t.Fatalf("spinesandbox: %v", err)
	}
	t.Cleanup(func() {
		if err := sb.Close(); err != nil {
			t.Errorf("spinesandbox: close: %v", err)
		}
	})
	return sb
}

// New runs a sandbox on 127.0.0.1 on a free port until Close.
func New(opts ...Option) (*Sandbox, error) {
	o := options{scenarioDir: "scenarios", fixtureDir: "fixtures"}
	for _, opt := range opts {
		opt(&o)
	}
	sc, err := o.scenario()
	if err != nil {
		return nil, err
	}
	cfg := sandbox.Config{
		Lenient:     o.lenient,
		ScenarioDir: o.scenarioDir,
		FixtureDir:  o.fixtureDir,
		Verdict:     runner.AdminVerdict(o.fixtureDir),
		Run:         runner.RunSession,
	}
	for _, h := range o.upstreams {
		u, err := sandbox.ParseUpstream(h)
		if err != nil {
			return nil, err
		}
		cfg.Upstreams = append(cfg.Upstreams, u)
	}
	for _, f := range o.configure {
		f(&cfg)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	sb := &Sandbox{url: "http://" + ln.Addr().String(), ln: ln, sc: sc, fixtures: o.fixtureDir, served: make(chan error, 1)}
	if o.tls {
		cert, leaf, err := selfSigned()
		if err != nil {
			ln.Close()
			return nil, err
		}
		sb.cert, sb.url = leaf, "https://"+ln.Addr().String()
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		sb.ln = ln
	}
	cfg.PublicURL = sb.url
	sb.srv, err = sandbox.New(cfg)
	if err != nil {
		ln.Close()
		return nil, err
	}
	ss, err := sb.srv.CreateSession("", sc)
	if err != nil {
		sb.srv.Close()
		ln.Close()
		return nil, err
	}
	sb.id = ss.ID
	sb.hs = &http.Server{Handler: sb.srv, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: sb.srv.Limits().MaxHeaderBytes}
	go func() { sb.served <- sb.hs.Serve(ln) }()
	if o.ldap {
		if err := sb.serveLDAP(); err != nil {
			sb.Close()
			return nil, err
		}
	}
	return sb, nil
}

// scenario is the scenario the options name; the built-in world if none.
func (o *options) scenario() (*scenario.Scenario, error) {
	given := 0
	for _, set := range []bool{o.scenarioFile != "", o.scenarioYAML != nil, o.scenarioName != ""} {
		if set {
			given++
		}
	}
	switch {
	case given > 1:
		return nil, errors.New("give one of WithScenarioFile, WithScenarioYAML and WithScenario")
	case o.scenarioFile != "":
		return scenario.LoadFile(o.scenarioFile)
	case o.scenarioYAML != nil:
		return scenario.Load("scenario.yaml", o.scenarioYAML)
	case o.scenarioName != "" && o.scenarioName != scenario.Default().Name:
		name := o.scenarioName
		if !strings.HasSuffix(name, ".yaml") && !strings.HasSuffix(name, ".yml") {
			name += ".yaml"
		}
		if filepath.IsAbs(name) || strings.HasPrefix(filepath.ToSlash(filepath.Clean(name)), "../") {
			return nil, fmt.Errorf("scenario %q: a name under the scenario folder is expected (WithScenarioFile takes a path)", o.scenarioName)
		}
		return scenario.LoadFile(filepath.Join(o.scenarioDir, name))
	}
	return scenario.Default(), nil
}

func (sb *Sandbox) serveLDAP() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	sb.ldapAddr = ln.Addr().String()
	sb.ldap = sb.srv.NewLDAP(sdsldap.Config{})
	sb.ldapDone = make(chan error, 1)
	go func() { sb.ldapDone <- sb.ldap.Serve(ln) }()
	return nil
}

// Close stops the sandbox: its sessions' work, the HTTP listener (requests
// in flight are cut) and the LDAP directory. It may be called more than once.
func (sb *Sandbox) Close() error {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	if sb.closed {
		return sb.closeErrs
	}
	sb.closed = true
	// The sandbox first: its event streams never end by themselves.
	errs := []error{sb.srv.Close()}
	if sb.hs != nil {
		errs = append(errs, sb.hs.Close())
		if err := <-sb.served; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	} else {
		errs = append(errs, sb.ln.Close())
	}
	if sb.ldap != nil {
		errs = append(errs, sb.ldap.Close())
		// net.ErrClosed: closed before Serve got going.
		if err := <-sb.ldapDone; err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, fmt.Errorf("ldap: %w", err))
		}
	}
	sb.closeErrs = errors.Join(errs...)
	return sb.closeErrs
}

// session is the sandbox's session as it is now (Reset replaces it).
func (sb *Sandbox) session() *sandbox.Session {
	ss, ok := sb.srv.Session(sb.id)
	if !ok {
		// Removed when idle past the session TTL (an hour by default).
		panic("spinesandbox: the session is gone (idle past the session TTL?)")
	}
	return ss
}

// URL is the sandbox's own base URL, http://127.0.0.1:PORT: its admin API
// is under /_admin/, and the session this Sandbox serves under /s/{id}/.
func (sb *Sandbox) URL() string { return sb.url }

// SessionID is the id of the sandbox's session (for the admin API:
// /_admin/sessions/{id}).
func (sb *Sandbox) SessionID() string { return sb.id }

// PDSURL is the PDS FHIR R4 base URL (…/personal-demographics/FHIR/R4).
func (sb *Sandbox) PDSURL() string { return sb.session().URLs().PDS }

// SDSURL is the SDS FHIR R4 base URL (…/spine-directory/FHIR/R4).
func (sb *Sandbox) SDSURL() string { return sb.session().URLs().SDS }

// SSPURL is the SSP's base URL (…/ssp/): a consumer appends the provider's
// service root, as on Spine.
func (sb *Sandbox) SSPURL() string { return sb.session().URLs().SSP }

// LDAPURL is the SDS LDAP directory's URL for this session (ldap://…, with
// the bindname extension a consumer binds with), or "" without WithLDAP.
func (sb *Sandbox) LDAPURL() string {
	if sb.ldapAddr == "" {
		return ""
	}
	return sb.session().LDAPURL(sb.ldapAddr)
}

// Consumer is the consumer system a scenario describes: the ASID the SSP
// expects on Ssp-From, and the organisation a booking is made for.
type Consumer struct {
	ASID string // 12 digits
	ODS  string // the consumer organisation's ODS code
	Name string // the organisation's name
}

// Consumer returns the identity the scenario gives the consumer.
func (sb *Sandbox) Consumer() Consumer {
	c := sb.session().World.Consumer()
	return Consumer{ASID: c.ASID, ODS: c.ODS, Name: c.Name}
}

// Journal returns every hop recorded so far, in the order they ended.
func (sb *Sandbox) Journal() []Hop { return sb.session().Journal.Hops() }

// Verdict is the sandbox's judgement of what the consumer did against the
// scenario's expectations, as GET /_admin/sessions/{id}/verdict gives it.
type Verdict struct {
	Passed bool
	// Outcome is how the journey ended, read from the journal: "booked",
	// "cancelled", "amended", "none", or "error HOP STATUS [CODE]".
	Outcome  string
	Failures []Failure
}

// Failure is one unmet expectation.
type Failure struct {
	Rule    string // outcome, sequence, request, checks.pass, checks.fire
	Section string // where the rule is documented
	Message string
	Diff    string // optional, multi-line
}

// String words a failure as the runner prints it.
func (f Failure) String() string {
	s := f.Rule + ": " + f.Message
	if f.Diff != "" {
		s += "\n" + f.Diff
	}
	return s
}

// Verdict judges the journal so far against the scenario's expectations.
func (sb *Sandbox) Verdict() Verdict {
	res := runner.SessionVerdict(sb.session(), sb.fixtures)
	v := Verdict{Passed: res.Passed, Outcome: res.Outcome.String()}
	for _, f := range res.Failures {
		v.Failures = append(v.Failures, Failure(f))
	}
	return v
}

// Reset starts the session afresh: the scenario's world as it began and an
// empty journal. The URLs stay the same.
func (sb *Sandbox) Reset() error {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	if sb.closed {
		return errors.New("spinesandbox: closed")
	}
	sb.srv.DeleteSession(sb.id)
	_, err := sb.srv.CreateSession(sb.id, sb.sc)
	return err
}

// Booking is an appointment the built-in consumer booked (Book).
type Booking struct {
	ODS           string    // the practice it was booked at
	AppointmentID string    // the provider's logical id
	SlotID        string    // the slot booked
	Start         time.Time // the slot's start
}

// Book makes the sandbox's own reference consumer book the first free slot
// for the patient with nhsNumber, through PDS, SDS and the SSP, as the
// scenario's consumer system. It is for a test that needs a booking to
// exist (or to see the whole journey in the journal) without writing a
// consumer; a consumer under test is pointed at PDSURL, SDSURL and SSPURL
// instead.
func (sb *Sandbox) Book(ctx context.Context, nhsNumber string) (*Booking, error) {
	ss := sb.session()
	me := ss.World.Consumer()
	name := me.Name
	if name == "" {
		name = me.ODS
	}
	u := ss.URLs()
	c, err := consumer.New(consumer.Config{
		PDS: u.PDS, SDS: u.SDS, SSP: u.SSP, ASID: me.ASID,
		Identity: jwt.Identity{
			Issuer: "https://spine-sandbox-go.invalid/", DeviceID: "spinesandbox", DeviceModel: "spinesandbox.Book", DeviceVersion: "1.0.0",
			OrgODS: me.ODS, OrgName: name, PractitionerID: "1",
			SDSUserID: "UNK", Family: "Sandbox", Given: []string{"Sam"}, Prefix: []string{"Dr"},
		},
		Now:        ss.World.Now,
		HTTPClient: sb.HTTPClient(),
	})
	if err != nil {
		return nil, err
	}
	b, err := c.NewSession().Book(ctx, consumer.BookRequest{NHSNumber: nhsNumber})
	if err != nil {
		return nil, err
	}
	return &Booking{ODS: b.ODS, AppointmentID: b.Appointment.ID(), SlotID: b.Slot.ID, Start: b.Slot.StartTime}, nil
}
