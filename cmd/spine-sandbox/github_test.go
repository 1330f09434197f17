package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
)

// TestCheckFormatGithub: a problem becomes an ::error at its file, line
// and column, besides the usual output.
func TestCheckFormatGithub(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	assert.NilError(t, os.WriteFile(bad, []byte("name: bad\nextends: builtin\nrun:\n  consumer: builtin\n  action: book\n  nhs_numbr: \"9693632109\"\n"), 0o644))
	var out, errb bytes.Buffer
	code := mainContext(context.Background(), []string{"check", "--format", "github", bad}, noenv, &out, &errb, nil)
	assert.Equal(t, code, 1, "exit code")
	assert.Contains(t, out.String(), "FAIL "+bad, "the usual output")
	assert.Contains(t, out.String(), "::error file="+bad+",line=6,col=3,title=scenario check::", "annotation")

	out.Reset()
	code = mainContext(context.Background(), []string{"check", "--format", "github", "../../scenarios/happy-path.yaml"}, noenv, &out, &errb, nil)
	assert.Equal(t, code, 0, "a good file")
	if strings.Contains(out.String(), "::error") {
		t.Errorf("annotations for a good file: %s", out.String())
	}
	code = mainContext(context.Background(), []string{"check", "--format", "xml", bad}, noenv, &out, &errb, nil)
	assert.Equal(t, code, 2, "unknown format")
}

// TestRunFormatGithub: an unmet expectation becomes an ::error at the
// expectation's key.
func TestRunFormatGithub(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f := filepath.Join(dir, "wrong.yaml")
	assert.NilError(t, os.WriteFile(f, []byte(`name: wrong outcome
extends: builtin
run:
  consumer: builtin
  action: book
  nhs_number: "9000000009"
expect:
  outcome: booked
`), 0o644))
	var out, errb bytes.Buffer
	code := mainContext(context.Background(), []string{"run", "--format", "github", "--fixtures", "../../fixtures", f}, noenv, &out, &errb, nil)
	assert.Equal(t, code, 1, "exit code: "+errb.String())
	assert.Contains(t, out.String(), "::error file="+f+",line=8,col=12,title=wrong outcome%3A outcome::", "annotation")
}

func TestGhEscape(t *testing.T) {
	assert.Equal(t, ghError("a,b:c.yaml", 1, 2, "t", "50% done\nnext"), "::error file=a%2Cb%3Ac.yaml,line=1,col=2,title=t::50%25 done%0Anext", "escaped")
}
