package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
)

var update = flag.Bool("update", false, "rewrite the golden help texts in testdata/help")

// golden compares got with testdata/help/NAME.txt, or rewrites it with
// -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	file := filepath.Join("testdata", "help", name+".txt")
	if *update {
		assert.NilError(t, os.MkdirAll(filepath.Dir(file), 0o755))
		assert.NilError(t, os.WriteFile(file, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/spine-sandbox -run TestHelp -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s (go test ./cmd/spine-sandbox -run TestHelp -update rewrites it):\n%s", name, file, got)
	}
}

// TestHelp: every command and its help answer -h, --help and help
// COMMAND the same way, on stdout, exit 0, with every flag (hidden
// aliases left out), its default and the environment variables; the texts
// are golden files.
func TestHelp(t *testing.T) {
	t.Parallel()
	for _, cmd := range []string{"serve", "check", "run", "health", "certs"} {
		t.Run(cmd, func(t *testing.T) {
			var first string
			for _, args := range [][]string{{cmd, "-h"}, {cmd, "--help"}, {"help", cmd}, {cmd, "x", "--help"}} {
				var out, errb bytes.Buffer
				code := mainContext(context.Background(), args, noenv, &out, &errb, nil)
				assert.Equal(t, code, 0, strings.Join(args, " ")+" exit code; stderr: "+errb.String())
				assert.Equal(t, errb.String(), "", strings.Join(args, " ")+" stderr")
				if first == "" {
					first = out.String()
				}
				assert.Equal(t, out.String(), first, strings.Join(args, " ")+" says the same")
			}
			assert.Contains(t, first, "flags:\n", "flag list")
			if strings.Contains(first, "fixtures-dir") {
				t.Errorf("the hidden alias --fixtures-dir is listed")
			}
			golden(t, cmd, first)
		})
	}
	var out, errb bytes.Buffer
	assert.Equal(t, mainContext(context.Background(), []string{"--help"}, noenv, &out, &errb, nil), 0, "--help")
	golden(t, "spine-sandbox", out.String())
	assert.Equal(t, mainContext(context.Background(), []string{"help", "nope"}, noenv, &out, &errb, nil), 2, "help of an unknown command")
}

// TestHelpListsEnvironment: every SPINE_SANDBOX_ variable serve reads is in
// its help.
func TestHelpListsEnvironment(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("cli.go")
	assert.NilError(t, err)
	var out, errb bytes.Buffer
	mainContext(context.Background(), []string{"serve", "--help"}, noenv, &out, &errb, nil)
	for _, part := range strings.Split(string(src), `getenv("`)[1:] {
		name, _, _ := strings.Cut(part, `"`)
		assert.Contains(t, out.String(), name, "serve --help names "+name)
	}
	for _, part := range strings.Split(string(src), `def("`)[1:] {
		name, _, _ := strings.Cut(part, `"`)
		if strings.HasPrefix(name, "SPINE_SANDBOX_") {
			assert.Contains(t, out.String(), name, "serve --help names "+name)
		}
	}
}

// TestServeFixturesAlias: --fixtures and the old --fixtures-dir set the
// same thing.
func TestServeFixturesAlias(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"--fixtures", "--fixtures-dir"} {
		c, err := parseServe([]string{name, "x"}, noenv, &bytes.Buffer{})
		assert.NilError(t, err)
		assert.Equal(t, c.FixtureDir, "x", name)
	}
}
