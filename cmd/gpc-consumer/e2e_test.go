package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
)

func TestMainBooksAgainstTheSandbox(t *testing.T) {
	t.Parallel()
	sb := startSpine(t, "", 0)
	var out, errb bytes.Buffer
	code := Main([]string{"book", "--nhs-number", "9693632109", "--pds", sb.PDS, "--sds", sb.SDS, "--ssp", sb.SSP}, env(nil), &out, &errb)
	assert.Equal(t, code, 0, "exit code; stderr: "+errb.String())
	assert.Contains(t, out.String(), "1a     pds  GET  "+sb.PDS+"/Patient/9693632109 → 200", "PDS hop printed")
	assert.Contains(t, out.String(), "booked appointment ", "result")
	assert.Equal(t, strings.Count(out.String(), "6a "), 1, "one book call")
}

func TestMainJSONAgainstTheSandbox(t *testing.T) {
	t.Parallel()
	sb := startSpine(t, "", 0)
	var out, errb bytes.Buffer
	code := Main([]string{"book", "--nhs-number", "9000000009", "--json", "--pds", sb.PDS, "--sds", sb.SDS, "--ssp", sb.SSP}, env(nil), &out, &errb)
	assert.Equal(t, code, 1, "exit code")
	var res result
	assert.NilError(t, json.Unmarshal(out.Bytes(), &res))
	assert.Equal(t, res.OK, false, "ok")
	assert.Equal(t, res.Error.Kind, "patient is deceased", "kind")
	assert.Equal(t, len(res.Hops), 1, "hops")
}
