package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
)

func noenv(string) string { return "" }

func TestUsageErrorsExit2(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "usage: spine-sandbox"},
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"unknown flag", []string{"serve", "--nope"}, "flag provided but not defined"},
		{"bad addr", []string{"serve", "--addr", "nohostport"}, "--addr"},
		{"serve with arguments", []string{"serve", "extra"}, "serve takes no arguments"},
		{"check without paths", []string{"check"}, "usage: spine-sandbox check [--format text|github] PATH..."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out, errb bytes.Buffer
			code := Main(tt.args, noenv, &out, &errb)
			assert.Equal(t, code, 2, "exit code")
			assert.Contains(t, errb.String(), tt.want, "stderr")
		})
	}
}

func TestParseServeDefaultsAndEnv(t *testing.T) {
	t.Parallel()
	c, err := parseServe(nil, noenv, &bytes.Buffer{})
	assert.NilError(t, err)
	assert.Equal(t, c.Addr, "127.0.0.1:4000", "default addr")
	assert.Equal(t, c.PublicURL, "http://127.0.0.1:4000", "default public URL")
	env := map[string]string{"SPINE_SANDBOX_ADDR": "127.0.0.1:5000", "SPINE_SANDBOX_LENIENT": "true"}
	c, err = parseServe([]string{"--public-url", "http://spine:5000/"}, func(k string) string { return env[k] }, &bytes.Buffer{})
	assert.NilError(t, err)
	assert.Equal(t, c.Addr, "127.0.0.1:5000", "addr from env")
	assert.Equal(t, c.PublicURL, "http://spine:5000", "public URL flag, trailing slash trimmed")
	assert.Equal(t, c.Lenient, true, "lenient from env")
}

func TestCheck(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(good, []byte("name: good\nextends: builtin\n"), 0o644)
	os.WriteFile(bad, []byte("name: bad\npatients:\n  - nhs_number: \"9000000000\"\n    colour: blue\n"), 0o644)

	var out, errb bytes.Buffer
	assert.Equal(t, Main([]string{"check", good}, noenv, &out, &errb), 0, "exit code for a good file")

	out.Reset()
	code := Main([]string{"check", good, bad}, noenv, &out, &errb)
	assert.Equal(t, code, 1, "exit code with a bad file")
	assert.Contains(t, out.String(), bad+":3:", "problem position (NHS number line)")
	assert.Contains(t, out.String(), bad+":4:5", "problem position (unknown key)")

	// A scenario that loads but names a check that does not exist.
	typo := filepath.Join(dir, "typo.yaml")
	os.WriteFile(typo, []byte("name: typo\nextends: builtin\nexpect:\n  checks:\n    fire: [SSP_SHARING_AGREEMENT, JWT_EXPIRD]\n"), 0o644)
	out.Reset()
	assert.Equal(t, Main([]string{"check", typo}, noenv, &out, &errb), 1, "exit code with an unknown check")
	assert.Contains(t, out.String(), typo+`:5:35: expect.checks.fire[1]: unknown check "JWT_EXPIRD"`, "problem")
	out.Reset()
	errb.Reset()
	assert.Equal(t, Main([]string{"run", typo}, noenv, &out, &errb), 1, "run exit code with an unknown check")
	assert.Contains(t, out.String(), typo+`:5:35: expect.checks.fire[1]: unknown check "JWT_EXPIRD"`, "run names the problem")
}

// syncBuffer is a bytes.Buffer safe to read while serve writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestServeStartsPrintsURLsAndShutsDown(t *testing.T) {
	t.Parallel()
	sv := startServe(t, noenv, "--addr", "127.0.0.1:0", "--public-url", "http://127.0.0.1:1", "--ldap-addr", "127.0.0.1:0")
	addr, out := sv.addr, sv.out
	resp, err := http.Get("http://" + addr + "/_admin/health")
	assert.NilError(t, err)
	resp.Body.Close()
	assert.Equal(t, resp.StatusCode, 200, "health status")
	// A 1 MB header is refused by the listener (issue 13: 300 such PDS
	// reads once kept 480 MB in the journal).
	req, err := http.NewRequest("GET", "http://"+addr+"/personal-demographics/FHIR/R4/Patient/9693632109", nil)
	assert.NilError(t, err)
	req.Header.Set("X-Request-ID", "60E0B220-8136-4CA5-AE46-1D97EF59D068")
	req.Header.Set("X-Padding", strings.Repeat("a", 1<<20))
	resp, err = http.DefaultClient.Do(req)
	assert.NilError(t, err)
	resp.Body.Close()
	assert.Equal(t, resp.StatusCode, http.StatusRequestHeaderFieldsTooLarge, "a 1 MB header")
	for _, want := range []string{"/personal-demographics/FHIR/R4", "/spine-directory/FHIR/R4", "/ssp/", "/provider", "/_admin/health"} {
		assert.Contains(t, out.String(), "http://127.0.0.1:1"+want, "printed base URLs")
	}
	assert.Equal(t, sv.exit(t), 0, "exit code after shutdown")
	if !strings.Contains(out.String(), "shutting down") {
		t.Errorf("no shutdown message in %q", out.String())
	}
}

func TestServeBadScenarioExits1(t *testing.T) {
	t.Parallel()
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("name: [\n"), 0o644)
	var out, errb bytes.Buffer
	code := Main([]string{"serve", "--addr", "127.0.0.1:0", "--scenario", bad}, noenv, &out, &errb)
	assert.Equal(t, code, 1, "exit code")
	assert.Contains(t, errb.String(), bad+":", "stderr names the file")

	// A scenario that loads but expects a check that does not exist.
	typo := filepath.Join(t.TempDir(), "typo.yaml")
	os.WriteFile(typo, []byte("name: typo\nextends: builtin\nexpect:\n  checks: {pass: [NOPE]}\n"), 0o644)
	errb.Reset()
	code = Main([]string{"serve", "--addr", "127.0.0.1:0", "--scenario", typo}, noenv, &out, &errb)
	assert.Equal(t, code, 1, "exit code for an unknown check")
	assert.Contains(t, errb.String(), typo+`:4:19: expect.checks.pass[0]: unknown check "NOPE"`, "stderr names the problem")
}

// BenchmarkStartup measures building the sandbox and its default session,
// what `serve` does before it listens.
func BenchmarkStartup(b *testing.B) {
	for i := 0; i < b.N; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		ready := make(chan string, 1)
		done := make(chan int, 1)
		go func() {
			done <- mainContext(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--ldap-addr", ""}, noenv, &bytes.Buffer{}, &bytes.Buffer{}, ready)
		}()
		<-ready
		cancel()
		<-done
	}
}

// TestServeAdminBind: serve refuses to expose an unauthenticated admin API
// beyond loopback (exit 2, saying what to do), unless told so plainly.
func TestServeAdminBind(t *testing.T) {
	t.Parallel()
	const tok = "0123456789abcdef"
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string // "" = accepted
	}{
		{"loopback without a token", []string{"--addr", "127.0.0.1:4000"}, nil, ""},
		{"IPv6 loopback without a token", []string{"--addr", "[::1]:4000"}, nil, ""},
		{"localhost without a token", []string{"--addr", "localhost:4000"}, nil, ""},
		{"every interface without a token", []string{"--addr", "0.0.0.0:4000"}, nil, "--addr 0.0.0.0:4000 is reachable from other machines: give --admin-token"},
		{"every interface, no host, without a token", []string{"--addr", ":4000"}, nil, "reachable from other machines"},
		{"IPv6 any without a token", []string{"--addr", "[::]:4000"}, nil, "reachable from other machines"},
		{"a LAN address without a token", []string{"--addr", "192.168.1.5:4000"}, nil, "reachable from other machines"},
		{"every interface from the environment", nil, map[string]string{"SPINE_SANDBOX_ADDR": "0.0.0.0:4000"}, "reachable from other machines"},
		{"every interface with a token", []string{"--addr", "0.0.0.0:4000", "--admin-token", tok}, nil, ""},
		{"every interface with a token from the environment", []string{"--addr", "0.0.0.0:4000"}, map[string]string{"SPINE_SANDBOX_ADMIN_TOKEN": tok}, ""},
		{"every interface, insecure on purpose", []string{"--addr", "0.0.0.0:4000", "--insecure-admin"}, nil, ""},
		{"a short token", []string{"--admin-token", "secret"}, nil, "--admin-token: at least 16 characters"},
		{"a token a cookie cannot carry", []string{"--admin-token", "0123456789abcdef;x"}, nil, "--admin-token: printable ASCII without spaces"},
		{"a token with a space", []string{"--admin-token", "0123456789 abcdef"}, nil, "--admin-token: printable ASCII without spaces"},
		{"a bad upstream", []string{"--upstream", "http://x"}, nil, `invalid value "http://x" for flag -upstream`},
		{"a metadata upstream", []string{"--upstream", "169.254.169.254"}, nil, "never forwards to"},
		{"a bad upstream in the environment", nil, map[string]string{"SPINE_SANDBOX_UPSTREAMS": "10.0.0.0/8, 10.0.0.0/99"}, "SPINE_SANDBOX_UPSTREAMS: upstream \"10.0.0.0/99\""},
		{"a zero shutdown grace", []string{"--shutdown-grace", "0s"}, nil, "--shutdown-grace must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			getenv := func(k string) string { return tt.env[k] }
			_, err := parseServe(tt.args, getenv, &bytes.Buffer{})
			if tt.want == "" {
				assert.NilError(t, err)
				return
			}
			if err == nil {
				t.Fatal("parseServe accepted it")
			}
			assert.Contains(t, err.Error(), tt.want, "error")
			// Through Main: exit 2, before listening on anything.
			var out, errb bytes.Buffer
			assert.Equal(t, Main(append([]string{"serve"}, tt.args...), getenv, &out, &errb), 2, "exit code")
			assert.Contains(t, errb.String(), tt.want, "stderr")
		})
	}
}

func TestParseServeUpstreams(t *testing.T) {
	t.Parallel()
	env := map[string]string{"SPINE_SANDBOX_UPSTREAMS": "provider.example:443, 10.0.0.0/8"}
	getenv := func(k string) string { return env[k] }
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"from the environment", nil, "provider.example:443,10.0.0.0/8"},
		{"flags replace the environment", []string{"--upstream", "a.example", "--upstream", "[fd00::1]:8080"}, "a.example,[fd00::1]:8080"},
	}
	for _, tt := range tests {
		c, err := parseServe(tt.args, getenv, &bytes.Buffer{})
		assert.NilError(t, err)
		got := (&upstreamList{list: &c.Upstreams}).String()
		assert.Equal(t, got, tt.want, tt.name)
	}
	c, err := parseServe(nil, noenv, &bytes.Buffer{})
	assert.NilError(t, err)
	assert.Equal(t, len(c.Upstreams), 0, "no upstreams by default")
	assert.Equal(t, c.ShutdownGrace, 10*time.Second, "default shutdown grace")
}

// TestServeShutsDownWithAnEventStreamOpen: SIGTERM (the context's cancel)
// while the live UI's event stream is open ends the stream and exits 0
// within the grace period. Before, Shutdown waited for the stream that
// never ends, gave up after 5 s and serve exited 1.
func TestServeShutsDownWithAnEventStreamOpen(t *testing.T) {
	t.Parallel()
	sv := startServe(t, noenv, "--addr", "127.0.0.1:0", "--shutdown-grace", "20s")
	addr := sv.addr
	// The stream is open once its first bytes (the status line) arrived.
	reqCtx, reqCancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer reqCancel()
	req, _ := http.NewRequestWithContext(reqCtx, "GET", "http://"+addr+"/_admin/sessions/default/events", nil)
	resp, err := http.DefaultClient.Do(req)
	assert.NilError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, resp.StatusCode, 200, "events status")
	streamEnded := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, resp.Body)
		streamEnded <- err
	}()

	began := time.Now()
	assert.Equal(t, sv.exit(t), 0, "exit code: "+sv.errb.String())
	select {
	case <-streamEnded:
	case <-time.After(30 * time.Second):
		t.Fatal("the event stream was not ended")
	}
	t.Logf("exited %v after the signal", time.Since(began))
}

// TestServeWithAdminToken: the token given to serve guards its admin API
// (health stays open for probes).
func TestServeWithAdminToken(t *testing.T) {
	t.Parallel()
	const tok = "0123456789abcdef0123456789abcdef"
	sv := startServe(t, func(k string) string {
		return map[string]string{"SPINE_SANDBOX_ADMIN_TOKEN": tok}[k]
	}, "--addr", "127.0.0.1:0")
	addr := sv.addr
	tests := []struct {
		name, path, auth string
		status           int
	}{
		{"health without a token", "/_admin/health", "", 200},
		{"sessions without a token", "/_admin/sessions", "", 401},
		{"sessions with the token", "/_admin/sessions", "Bearer " + tok, 200},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest("GET", "http://"+addr+tt.path, nil)
		if tt.auth != "" {
			req.Header.Set("Authorization", tt.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		assert.NilError(t, err)
		resp.Body.Close()
		assert.Equal(t, resp.StatusCode, tt.status, tt.name)
	}
	assert.Contains(t, sv.out.String(), "/?token=<token>", "printed how to open the UI")
	assert.Equal(t, sv.exit(t), 0, "exit code")
}

// served is a `serve` started by startServe.
type served struct {
	addr      string
	out, errb *syncBuffer
	cancel    context.CancelFunc // the signal
	done      chan int           // its exit code
}

// startServe runs `serve args` with getenv until it listens, and returns
// it; the test sends the signal with cancel and reads the exit code from
// done (t.Cleanup sends it in any case). The LDAP directory is off unless
// args give --ldap-addr, so parallel tests never race for its port.
func startServe(t *testing.T, getenv func(string) string, args ...string) *served {
	t.Helper()
	if !slices.Contains(args, "--ldap-addr") {
		args = append(args, "--ldap-addr", "")
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	sv := &served{out: &syncBuffer{}, errb: &syncBuffer{}, cancel: cancel, done: make(chan int, 1)}
	ready := make(chan string, 1)
	go func() {
		sv.done <- mainContext(ctx, append([]string{"serve"}, args...), getenv, sv.out, sv.errb, ready)
	}()
	select {
	case sv.addr = <-ready:
	case code := <-sv.done:
		t.Fatalf("serve exited early with %d: %s", code, sv.errb.String())
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}
	return sv
}

// exit signals serve and returns its exit code, failing the test when it
// does not end within a generous bound (not a timing assertion).
func (sv *served) exit(t *testing.T) int {
	t.Helper()
	sv.cancel()
	select {
	case code := <-sv.done:
		return code
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not shut down")
		return -1
	}
}

// TestCheckReportsEveryKind: one check run reports every mistake of a file
// at once, in file order, whatever stage finds it — the schema (an unknown
// key, a wrong type), a reference, an unknown conformance check, and a
// world that cannot be built (slots over the limit, a slot that ends
// before it starts). Before, each kind hid the next: three rounds of fixes.
func TestCheckReportsEveryKind(t *testing.T) {
	t.Parallel()
	file := filepath.Join("..", "..", "internal", "scenario", "testdata", "every-kind.yaml")
	var out, errb bytes.Buffer
	assert.Equal(t, Main([]string{"check", file}, noenv, &out, &errb), 1, "exit code")
	want := "FAIL " + file + "\n" +
		"    " + file + `:9:3: scenario.consumer: unknown key "colour" (known: asid, ods, name, party_key, manufacturer, interactions, fqdn)` + "\n" +
		"    " + file + `:12:15: patients: practice "B99999" of patient 9693632109 is not in practices` + "\n" +
		"    " + file + `:21:30: practices[A20047].generate[0]: 300,000 slots, over the limit of 200,000 slots per practice` + "\n" +
		"    " + file + `:23:60: practices[A20047].slots: slot "100" ends (+1d 08:45) before or when it starts (+1d 09:00)` + "\n" +
		"    " + file + `:25:24: scenario.faults[0].status: expected a whole number, got "fourhundred"` + "\n" +
		"    " + file + `:28:12: expect.checks.fire[0]: unknown check "JWT_EXPIRD" (did you mean "JWT_EXPIRED"?) (the names are in docs/conformance-checks.md)` + "\n"
	assert.Equal(t, out.String(), want, "check's output")
	assert.Contains(t, errb.String(), "1 scenario file(s) failed", "stderr")

	// The same run, twice: the order is stable.
	var again bytes.Buffer
	Main([]string{"check", file}, noenv, &again, &errb)
	assert.Equal(t, again.String(), out.String(), "a second run's output")
}
