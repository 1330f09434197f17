package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/clihelp"
	"github.com/spine-sandbox/spine-sandbox/internal/conformance"
	"github.com/spine-sandbox/spine-sandbox/internal/runner"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
	"github.com/spine-sandbox/spine-sandbox/internal/version"
	"github.com/spine-sandbox/spine-sandbox/internal/webui"
)

const usageText = `usage: spine-sandbox <command> [flags]

commands:
  serve   run the sandbox (PDS, SDS, SSP, provider, admin API) on one listener
  check   validate scenario files or folders: spine-sandbox check PATH...
  run     run scenarios and judge them: spine-sandbox run [--junit F] [--markdown F] [--json F] PATH...
  health  exit 0 when a sandbox answers: spine-sandbox health [--url URL] (the image's HEALTHCHECK)
  certs   write a test PKI for serve --tls: spine-sandbox certs --out DIR [--host NAME]...

run 'spine-sandbox help <command>' (or '<command> -h') for a command's flags and environment variables;
spine-sandbox --version for the build
`

// Main runs the command line args and returns the exit status: 0 on
// success, 1 on a runtime error, 2 on a usage error.
func Main(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	return mainContext(signalContext(), args, getenv, stdout, stderr, nil)
}

func signalContext() context.Context {
	ctx, _ := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	return ctx
}

// mainContext is Main with its context and, for tests, a channel told the
// address once the server listens.
func mainContext(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, ready chan<- string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText)
		return 2
	}
	switch args[0] {
	case "serve":
		cfg, err := parseServe(args[1:], getenv, stderr)
		var h helpRequested
		if errors.As(err, &h) {
			fmt.Fprint(stdout, string(h))
			return 0
		}
		if err != nil {
			return usageError(err, stderr)
		}
		if err := serve(ctx, cfg, stdout, stderr, ready); err != nil {
			fmt.Fprintln(stderr, "spine-sandbox:", err)
			return 1
		}
		return 0
	case "check":
		fs := flag.NewFlagSet("check", flag.ContinueOnError)
		fs.SetOutput(stderr)
		format := fs.String("format", "text", "text, or github: also print GitHub Actions ::error annotations (github.go)")
		setUsage("check", fs)
		if clihelp.Wants(args[1:]) {
			fmt.Fprint(stdout, commandHelp("check", fs))
			return 0
		}
		paths, err := clihelp.Parse(fs, args[1:])
		if err != nil {
			return usageError(err, stderr)
		}
		if len(paths) == 0 {
			fmt.Fprint(stderr, commandHelp("check", fs))
			return 2
		}
		if err := validFormat(*format); err != nil {
			return usageError(err, stderr)
		}
		out := stdout
		var checked bytes.Buffer
		if *format == "github" {
			out = io.MultiWriter(stdout, &checked)
			defer func() { checkAnnotations(checked.Bytes(), stdout) }()
		}
		if err := scenario.Check(paths, out, scenario.Options{CheckNames: conformance.ScenarioChecks()}); err != nil {
			fmt.Fprintln(stderr, "spine-sandbox check:", err)
			return 1
		}
		return 0
	case "run":
		return runCommand(ctx, args[1:], getenv, stdout, stderr)
	case "health":
		return health(ctx, args[1:], getenv, stdout, stderr)
	case "certs":
		return certs(ctx, args[1:], stdout, stderr)
	case "--version", "-version", "version":
		fmt.Fprintln(stdout, version.String("spine-sandbox"))
		return 0
	case "-h", "-help", "--help", "help":
		if len(args) > 1 && args[0] == "help" {
			if _, ok := commandAbout[args[1]]; !ok {
				fmt.Fprintf(stderr, "spine-sandbox help: unknown command %q\n%s", args[1], usageText)
				return 2
			}
			return mainContext(ctx, []string{args[1], "--help"}, getenv, stdout, stderr, ready)
		}
		fmt.Fprint(stdout, usageText)
		return 0
	default:
		fmt.Fprintf(stderr, "spine-sandbox: unknown command %q\n%s", args[0], usageText)
		return 2
	}
}

func usageError(err error, stderr io.Writer) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintln(stderr, "spine-sandbox:", err)
	return 2
}

// serveConfig is what `serve` runs with: a pure function of the flags and
// the environment.
type serveConfig struct {
	Addr        string
	PublicURL   string
	Scenario    string
	ScenarioDir string
	FixtureDir  string
	Lenient     bool
	Limits      sandbox.Limits
	// Upstreams are where the SSP may forward over the network besides the
	// sandbox's own provider (--upstream, SPINE_SANDBOX_UPSTREAMS).
	Upstreams []sandbox.Upstream
	// AdminToken guards the admin API; InsecureAdmin allows a non-loopback
	// bind without one.
	AdminToken    string
	InsecureAdmin bool
	// ShutdownGrace is how long requests in flight get to finish on
	// SIGTERM or SIGINT.
	ShutdownGrace time.Duration
	LDAPAddr      string // the SDS LDAP directory's address; "" for none
	// FollowClient (no --public-url) builds the URLs answering a request
	// on the host it was addressed to; TrustForwarded reads that from
	// X-Forwarded-Host and -Proto (origin.go in internal/sandbox).
	FollowClient   bool
	TrustForwarded bool
	// TLSDir is a PKI folder (spine-sandbox certs): mutual TLS on every
	// leg (tls.go); TLSVersions "1.2" or "1.2,1.3"; UpstreamCAs are more
	// CAs the SSP trusts for external providers.
	TLSDir      string
	TLSVersions string
	UpstreamCAs []string
}

// minTokenLength keeps admin tokens out of guessing range: 16 characters
// of `openssl rand -hex 16` are 64 bits.
const minTokenLength = 16

// upstreamList is the repeatable --upstream flag: the first flag replaces
// the environment's list, later ones add to it.
type upstreamList struct {
	list      *[]sandbox.Upstream
	fromFlags bool
}

func (u *upstreamList) String() string {
	if u.list == nil {
		return ""
	}
	out := make([]string, len(*u.list))
	for i, x := range *u.list {
		out[i] = x.String()
	}
	return strings.Join(out, ",")
}

func (u *upstreamList) Set(v string) error {
	x, err := sandbox.ParseUpstream(v)
	if err != nil {
		return err
	}
	if !u.fromFlags {
		*u.list, u.fromFlags = nil, true
	}
	*u.list = append(*u.list, x)
	return nil
}

// loopback reports whether the listen address addr is reachable from this
// machine only.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

func parseServe(args []string, getenv func(string) string, stderr io.Writer) (serveConfig, error) {
	def := func(key, fallback string) string {
		if v := getenv(key); v != "" {
			return v
		}
		return fallback
	}
	var c serveConfig
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Addr, "addr", def("SPINE_SANDBOX_ADDR", "127.0.0.1:4000"), "listen address (env SPINE_SANDBOX_ADDR)")
	fs.StringVar(&c.PublicURL, "public-url", getenv("SPINE_SANDBOX_PUBLIC_URL"), "base URL consumers use; service roots are built from it (default: each request's Host, so any address the sandbox is reached on works; env SPINE_SANDBOX_PUBLIC_URL)")
	fs.StringVar(&c.Scenario, "scenario", getenv("SPINE_SANDBOX_SCENARIO"), "scenario file for the default session (default: the built-in world)")
	fs.StringVar(&c.ScenarioDir, "scenarios-dir", def("SPINE_SANDBOX_SCENARIOS", "scenarios"), "folder POST /_admin/sessions finds scenarios in by name")
	fs.StringVar(&c.FixtureDir, "fixtures", def("SPINE_SANDBOX_FIXTURES", "fixtures"), "folder fault bodies given as fixture: and the verdict's expect.requests bodies are read from (as run --fixtures)")
	fs.StringVar(&c.FixtureDir, "fixtures-dir", c.FixtureDir, "old name of --fixtures")
	fs.BoolVar(&c.Lenient, "lenient", getenv("SPINE_SANDBOX_LENIENT") == "true", "record failed SSP checks and forward anyway")
	for _, v := range strings.Split(getenv("SPINE_SANDBOX_UPSTREAMS"), ",") {
		if v = strings.TrimSpace(v); v == "" {
			continue
		}
		u, err := sandbox.ParseUpstream(v)
		if err != nil {
			return c, fmt.Errorf("SPINE_SANDBOX_UPSTREAMS: %v", err)
		}
		c.Upstreams = append(c.Upstreams, u)
	}
	fs.Var(&upstreamList{list: &c.Upstreams}, "upstream", "HOST[:PORT], IP[:PORT] or CIDR the SSP may forward to besides the sandbox's own provider; repeatable (env SPINE_SANDBOX_UPSTREAMS, comma-separated)")
	fs.StringVar(&c.AdminToken, "admin-token", getenv("SPINE_SANDBOX_ADMIN_TOKEN"), "bearer token the admin API requires (env SPINE_SANDBOX_ADMIN_TOKEN); required when --addr is not loopback")
	fs.BoolVar(&c.InsecureAdmin, "insecure-admin", getenv("SPINE_SANDBOX_INSECURE_ADMIN") == "true", "serve the admin API without a token on a non-loopback --addr (anyone who reaches it can create, run and delete sessions)")
	fs.DurationVar(&c.ShutdownGrace, "shutdown-grace", 10*time.Second, "how long requests in flight get to finish on SIGTERM/SIGINT")
	limitFlags(fs, &c.Limits)
	fs.StringVar(&c.LDAPAddr, "ldap-addr", def("SPINE_SANDBOX_LDAP_ADDR", "127.0.0.1:4389"), "SDS LDAP directory address (gpconnect-1.6.md §1.2a; \"\" turns it off; env SPINE_SANDBOX_LDAP_ADDR)")
	fs.BoolVar(&c.TrustForwarded, "trust-forwarded", getenv("SPINE_SANDBOX_TRUST_FORWARDED") == "true", "without --public-url, build URLs from X-Forwarded-Host and X-Forwarded-Proto when present (only behind a proxy that sets them; env SPINE_SANDBOX_TRUST_FORWARDED)")
	fs.StringVar(&c.TLSDir, "tls", getenv("SPINE_SANDBOX_TLS"), "`DIR` of the PKI spine-sandbox certs wrote: serve HTTPS and LDAPS with mutual TLS, client certificates required by PDS, SDS, the SSP and the provider (env SPINE_SANDBOX_TLS)")
	fs.StringVar(&c.TLSVersions, "tls-versions", def("SPINE_SANDBOX_TLS_VERSIONS", "1.2"), "with --tls: 1.2 (Spine's) or 1.2,1.3")
	fs.Func("upstream-ca", "with --tls: a PEM CA file the SSP also trusts for external providers; repeatable", func(v string) error { c.UpstreamCAs = append(c.UpstreamCAs, v); return nil })
	setUsage("serve", fs)
	if clihelp.Wants(args) {
		return c, helpRequested(commandHelp("serve", fs))
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("serve takes no arguments, got %q", fs.Args())
	}
	if _, err := parseTLSVersions(c.TLSVersions); err != nil {
		return c, err
	}
	if c.TLSDir != "" && strings.HasPrefix(c.PublicURL, "http://") {
		return c, fmt.Errorf("--public-url %s: with --tls the sandbox speaks only HTTPS; give https://", c.PublicURL)
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return c, fmt.Errorf("--addr %q: %v", c.Addr, err)
	}
	if c.AdminToken != "" && len(c.AdminToken) < minTokenLength {
		return c, fmt.Errorf("--admin-token: at least %d characters, e.g. `openssl rand -hex 16`", minTokenLength)
	}
	if strings.ContainsFunc(c.AdminToken, func(r rune) bool { return r <= ' ' || r > '~' || strings.ContainsRune("\";,\\", r) }) {
		// The live UI carries the token in a cookie, which cannot hold these.
		return c, fmt.Errorf("--admin-token: printable ASCII without spaces, quotes, commas, semicolons or backslashes, e.g. `openssl rand -hex 16`")
	}
	if c.AdminToken == "" && !c.InsecureAdmin && !loopback(c.Addr) {
		return c, fmt.Errorf("--addr %s is reachable from other machines: give --admin-token (or SPINE_SANDBOX_ADMIN_TOKEN) to protect the admin API, or --insecure-admin to serve it without one", c.Addr)
	}
	if c.ShutdownGrace <= 0 {
		return c, fmt.Errorf("--shutdown-grace must be positive, got %v", c.ShutdownGrace)
	}
	if _, _, err := net.SplitHostPort(c.LDAPAddr); err != nil && c.LDAPAddr != "" {
		return c, fmt.Errorf("--ldap-addr %q: %v", c.LDAPAddr, err)
	}
	if c.PublicURL == "" {
		// Each request's Host decides its URLs; the listen address serves
		// a request without one.
		c.FollowClient = true
		c.PublicURL = "http://" + c.Addr
		if c.TLSDir != "" {
			c.PublicURL = "https://" + c.Addr
		}
	}
	c.PublicURL = strings.TrimSuffix(c.PublicURL, "/")
	return c, nil
}

func serve(ctx context.Context, c serveConfig, stdout, stderr io.Writer, ready chan<- string) error {
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var ldapAddr string // set by serveLDAP before the first request
	cfg := sandbox.Config{
		PublicURL:   c.PublicURL,
		Lenient:     c.Lenient,
		Limits:      c.Limits,
		Upstreams:   c.Upstreams,
		AdminToken:  c.AdminToken,
		ScenarioDir: c.ScenarioDir,
		FixtureDir:  c.FixtureDir,
		Logger:      logger,
		UI:          webui.Handler(),
		Verdict:     runner.AdminVerdict(c.FixtureDir),
		Run:         runLDAPAware(&ldapAddr),
	}
	cfg.FollowClient, cfg.TrustForwarded = c.FollowClient, c.TrustForwarded
	st, err := loadServeTLS(c)
	if err != nil {
		return err
	}
	cfg.TLS = st.sandbox
	if c.Scenario != "" {
		sc, err := scenario.LoadFileOptions(c.Scenario, scenario.Options{Limits: c.Limits.Scenario(), CheckNames: conformance.ScenarioChecks()})
		if err != nil {
			return err
		}
		cfg.Default = sc
	}
	srv, err := sandbox.New(cfg)
	if err != nil {
		return err
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return err
	}
	if c.AdminToken == "" && !loopback(c.Addr) {
		fmt.Fprintf(stderr, "spine-sandbox: WARNING: the admin API on %s has no token (--insecure-admin): anyone who can reach it can create, run and delete sessions\n", c.Addr)
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    srv.Limits().MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	ss, _ := srv.Session(sandbox.DefaultSession)
	u := ss.URLs()
	name := ss.Scenario.Name
	fmt.Fprintf(stdout, "spine-sandbox listening on %s (scenario %q%s)\n", ln.Addr(), name, map[bool]string{true: ", lenient"}[c.Lenient])
	fmt.Fprintf(stdout, "  PDS       %s\n  SDS       %s\n  SSP       %s\n  provider  %s\n  admin     %s/_admin/sessions\n  health    %s/_admin/health\n  sessions  %s/s/{id}/...\n",
		u.PDS, u.SDS, u.SSP, u.Provider, c.PublicURL, c.PublicURL, c.PublicURL)
	if c.AdminToken != "" {
		fmt.Fprintf(stdout, "  the admin API needs \"Authorization: Bearer <token>\"; open the live UI once as %s/?token=<token>\n", c.PublicURL)
	}
	stopLDAP, err := serveLDAP(srv, c.LDAPAddr, &ldapAddr, st.ldap, logger, stdout)
	if err != nil {
		ln.Close()
		return err
	}
	defer stopLDAP()
	errc := make(chan error, 1)
	go func() { errc <- st.serveHTTP(hs, ln) }()
	if ready != nil {
		ready <- ln.Addr().String()
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	fmt.Fprintln(stdout, "spine-sandbox: shutting down")
	grace, cancel := context.WithTimeout(context.Background(), c.ShutdownGrace)
	defer cancel()
	// Draining (scaleout.go): /_admin/health answers 503 "draining", new
	// sessions and runs are refused, and the runs in flight get the grace
	// to finish before Close cancels what is left.
	srv.Drain()
	srv.WaitRuns(grace)
	// The sandbox first: its event streams never end by themselves and
	// would hold Shutdown for the whole grace period, and its runs are
	// cancelled and waited for. Then the listener drains what is in flight.
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		_ = srv.Close()
	}()
	err = hs.Shutdown(grace)
	select {
	case <-closed:
	case <-grace.Done():
	}
	if err != nil || grace.Err() != nil {
		_ = hs.Close()
		return fmt.Errorf("not drained within the shutdown grace (%v): %v", c.ShutdownGrace, err)
	}
	return nil
}

// limitFlags declares a flag for each of the sandbox's limits, defaulting
// to sandbox.DefaultLimits.
func limitFlags(fs *flag.FlagSet, l *sandbox.Limits) {
	d := sandbox.DefaultLimits
	fs.IntVar(&l.MaxSessions, "max-sessions", d.MaxSessions, "sessions open at once; creating one more answers 429")
	fs.DurationVar(&l.SessionTTL, "session-ttl", d.SessionTTL, "a session unused this long is removed (the default session is reset)")
	fs.Int64Var(&l.MaxScenarioBytes, "max-scenario-bytes", d.MaxScenarioBytes, "largest scenario body POST /_admin/sessions accepts (413 above)")
	fs.IntVar(&l.MaxSlotsPerPractice, "max-slots-per-practice", d.MaxSlotsPerPractice, "slots one practice of a scenario may hold, listed and generated")
	fs.IntVar(&l.MaxSlotsPerSession, "max-slots-per-session", d.MaxSlotsPerSession, "slots one scenario's world may hold in all")
	fs.IntVar(&l.MaxSlotsTotal, "max-slots-total", d.MaxSlotsTotal, "slots of all open sessions together; a create past it answers 429")
	fs.IntVar(&l.JournalHops, "journal-hops", d.JournalHops, "hops each session's journal keeps (oldest dropped first)")
	fs.Int64Var(&l.JournalBytes, "journal-bytes", d.JournalBytes, "bytes each session's journal keeps (oldest dropped first)")
	fs.IntVar(&l.MaxHeaderBytes, "max-header-bytes", d.MaxHeaderBytes, "largest request header block the listener reads (431 above)")
	fs.IntVar(&l.BodyKept, "body-kept", d.BodyKept, "bytes of each request and response body a journal hop keeps")
	fs.IntVar(&l.HeaderKept, "header-kept", d.HeaderKept, "bytes of each hop's request and response headers the journal keeps")
	fs.IntVar(&l.TraceIDWindow, "trace-id-window", d.TraceIDWindow, "Ssp-TraceIDs each session remembers for the reuse check")
	fs.IntVar(&l.MaxRuns, "max-runs", d.MaxRuns, "built-in consumer runs (POST /_admin/sessions/{id}/run) in flight at once")
	fs.DurationVar(&l.EventWriteTimeout, "event-write-timeout", d.EventWriteTimeout, "a live event stream whose reader takes longer than this for one write is closed")
}
