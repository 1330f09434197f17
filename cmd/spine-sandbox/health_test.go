package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
)

// TestHealth: 0 against a running serve, 1 when nothing listens or the
// sandbox answers otherwise, 2 on a usage error.
func TestHealth(t *testing.T) {
	t.Parallel()
	sv := startServe(t, noenv, "--addr", "127.0.0.1:0")
	run := func(getenv func(string) string, args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := mainContext(context.Background(), append([]string{"health"}, args...), getenv, &out, &errb, nil)
		return code, out.String() + errb.String()
	}
	code, out := run(noenv, "--url", "http://"+sv.addr)
	assert.Equal(t, code, 0, "healthy: "+out)
	code, out = run(func(k string) string {
		return map[string]string{"SPINE_SANDBOX_HEALTH_URL": "http://" + sv.addr + "/"}[k]
	}, "-q")
	assert.Equal(t, code, 0, "from the environment: "+out)
	assert.Equal(t, out, "", "-q prints nothing")

	unhealthy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "draining", http.StatusServiceUnavailable)
	}))
	defer unhealthy.Close()
	code, out = run(noenv, "--url", unhealthy.URL)
	assert.Equal(t, code, 1, "503")
	assert.Contains(t, out, "503", "says why")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NilError(t, err)
	closed := ln.Addr().String()
	ln.Close()
	code, _ = run(noenv, "--url", "http://"+closed)
	assert.Equal(t, code, 1, "nothing listening")

	code, _ = run(noenv, "extra")
	assert.Equal(t, code, 2, "an argument")
	code, _ = run(noenv, "--url", "::not a url")
	assert.Equal(t, code, 2, "a URL that is not one")
	assert.Equal(t, sv.exit(t), 0, "serve's exit code")
}

// TestVersion: --version prints the build's version on both commands' way.
func TestVersion(t *testing.T) {
	t.Parallel()
	var out, errb bytes.Buffer
	code := Main([]string{"--version"}, noenv, &out, &errb)
	assert.Equal(t, code, 0, "exit code")
	if !strings.HasPrefix(out.String(), "spine-sandbox ") || !strings.Contains(out.String(), "go1.") {
		t.Errorf("--version printed %q", out.String())
	}
}
