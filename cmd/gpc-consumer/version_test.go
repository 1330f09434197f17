package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
)

func TestVersion(t *testing.T) {
	var out, errb bytes.Buffer
	code := Main([]string{"--version"}, env(nil), &out, &errb)
	assert.Equal(t, code, 0, "exit code: "+errb.String())
	if !strings.HasPrefix(out.String(), "gpc-consumer ") {
		t.Errorf("--version printed %q", out.String())
	}
}
