package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
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
		{"check without paths", []string{"check"}, "usage: spine-sandbox check PATH"},
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
	assert.Contains(t, out.String(), typo+`:5:11: expect.checks.fire[1]: unknown check "JWT_EXPIRD"`, "problem")
	out.Reset()
	errb.Reset()
	assert.Equal(t, Main([]string{"run", typo}, noenv, &out, &errb), 1, "run exit code with an unknown check")
	assert.Contains(t, out.String(), typo+`:5:11: expect.checks.fire[1]: unknown check "JWT_EXPIRD"`, "run names the problem")
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
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	var out, errb syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- mainContext(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--public-url", "http://127.0.0.1:1", "--ldap-addr", "127.0.0.1:0"}, noenv, &out, &errb, ready)
	}()
	var addr string
	select {
	case addr = <-ready:
	case code := <-done:
		t.Fatalf("serve exited early with %d: %s", code, errb.String())
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not start")
	}
	resp, err := http.Get("http://" + addr + "/_admin/health")
	assert.NilError(t, err)
	resp.Body.Close()
	assert.Equal(t, resp.StatusCode, 200, "health status")
	for _, want := range []string{"/personal-demographics/FHIR/R4", "/spine-directory/FHIR/R4", "/ssp/", "/provider", "/_admin/health"} {
		assert.Contains(t, out.String(), "http://127.0.0.1:1"+want, "printed base URLs")
	}
	cancel()
	select {
	case code := <-done:
		assert.Equal(t, code, 0, "exit code after shutdown")
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not shut down")
	}
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
	assert.Contains(t, errb.String(), typo+`:4:18: expect.checks.pass[0]: unknown check "NOPE"`, "stderr names the problem")
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
