package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox/sandboxtest"
)

func TestMainBooksAgainstTheSandbox(t *testing.T) {
	t.Parallel()
	sb := sandboxtest.Start(t, "")
	var out, errb bytes.Buffer
	code := Main([]string{"book", "--nhs-number", "9693632109", "--pds", sb.PDS, "--sds", sb.SDS, "--ssp", sb.SSP}, env(nil), &out, &errb)
	assert.Equal(t, code, 0, "exit code; stderr: "+errb.String())
	assert.Contains(t, out.String(), "1a     pds  GET  "+shortURL(sb.PDS)+"/Patient/9693632109 → 200", "PDS hop printed, its path only")
	assert.Contains(t, out.String(), "booked appointment ", "result")
	assert.Equal(t, strings.Count(out.String(), "\n6a "), 1, "one book call")
	assert.Equal(t, strings.Count(out.String(), "steps (the ids"), 1, "the step legend, once")
	// The booking went through the sandbox's SSP to its provider (6a, 6b).
	var books []string
	for _, h := range sb.Hops() {
		if strings.HasSuffix(h.Name, "book appointment") {
			books = append(books, fmt.Sprintf("%s %s %d", h.Step, h.Name, h.Status))
		}
	}
	assert.DeepEqual(t, books, []string{"6b provider.book appointment 201", "6a ssp.book appointment 201"}, "journal of bookings")
	out.Reset()
	code = Main([]string{"book", "-v", "--nhs-number", "9693632109", "--pds", sb.PDS, "--sds", sb.SDS, "--ssp", sb.SSP}, env(nil), &out, &errb)
	assert.Equal(t, code, 0, "exit code with -v; stderr: "+errb.String())
	assert.Contains(t, out.String(), "1a     pds  GET  "+sb.PDS+"/Patient/9693632109 → 200", "-v: the full URL")
}

func TestMainJSONAgainstTheSandbox(t *testing.T) {
	t.Parallel()
	sb := sandboxtest.Start(t, "")
	var out, errb bytes.Buffer
	code := Main([]string{"book", "--nhs-number", "9000000009", "--json", "--pds", sb.PDS, "--sds", sb.SDS, "--ssp", sb.SSP}, env(nil), &out, &errb)
	assert.Equal(t, code, 1, "exit code")
	var res result
	assert.NilError(t, json.Unmarshal(out.Bytes(), &res))
	assert.Equal(t, res.OK, false, "ok")
	assert.Equal(t, res.Error.Kind, "patient is deceased", "kind")
	assert.Equal(t, len(res.Hops), 1, "hops")
	hops := sb.Hops()
	assert.Equal(t, len(hops), 1, "journal")
	assert.Equal(t, hops[0].Step+" "+hops[0].Name, "1a pds.retrieve", "journal hop")
}
