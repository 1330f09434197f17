package sds_test

import (
	"encoding/json"
	"flag"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/nsf/jsondiff"

	spinesandbox "github.com/spine-sandbox/spine-sandbox"
	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/mocktest"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
	"github.com/spine-sandbox/spine-sandbox/internal/spinerules"
)

// nhsDataOnly are the recorded requests whose answer depends on a record
// only NHS's directory holds, with our status (docs/fidelity.md).
var nhsDataOnly = map[string]struct {
	why    string
	status int
}{
	"Endpoint B82617 getstructuredrecord (NHS data, list svcIA)": {
		"NHS's mock directory keeps B82617's interactions as a list, which its service fails to read (500); our directory has no B82617", http.StatusOK,
	},
}

// nhsAnswersFile holds requests sent to NHS's SDS FHIR service in its
// mock-LDAP mode and its answers (recorded 2026-11-29; docs/fidelity.md
// says how to record them again). Its directory holds NHS's mock data
// (B82617, X26, YES), ours the built-in world's.
const nhsAnswersFile = "testdata/nhs/answers.json"

// With -nhs-sds the test sends the recorded requests to a running copy of
// NHS's SDS FHIR service in its mock-LDAP mode first and compares ours with its live answers
// instead; -record-nhs also writes them to testdata/nhs/answers.json
// (docs/fidelity.md).
var (
	nhsURL    = flag.String("nhs-sds", "", "base URL of a running copy of NHS's SDS FHIR service in its mock-LDAP mode (e.g. http://localhost:9000): compare with its live answers")
	recordNHS = flag.Bool("record-nhs", false, "with -nhs-sds, rewrite testdata/nhs/answers.json from its answers")
)

// TestNHSSandbox replays every request recorded from NHS's SDS service
// against our SDS over the built-in world, through HTTP. Errors are
// compared whole (status, issue code, Spine code, display, diagnostics, the
// OperationOutcome id that echoes X-Correlation-Id); a searchset by
// status, headers and shape (type, self link's query): its entries are
// directory data, NHS's or ours.
func TestNHSSandbox(t *testing.T) {
	t.Parallel()
	answers := mocktest.LoadNHSAnswers(t, nhsAnswersFile)
	if *nhsURL != "" {
		answers.Live(t, *nhsURL)
		if *recordNHS {
			answers.Write(t, nhsAnswersFile)
		}
	}
	if len(answers.Cases) < 30 {
		t.Fatalf("testdata/nhs/answers.json has %d cases, want NHS's 31", len(answers.Cases))
	}
	data, err := scenario.Default().World(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	assert.NilError(t, err)
	srv := newServer(t, data)
	// The same requests through the whole sandbox (request path and strict
	// checks in front of the mock), as a consumer sends them.
	sb := spinesandbox.Start(t)
	recorded := map[string]bool{}
	for _, c := range answers.Cases {
		recorded[c.Name] = true
	}
	for name := range nhsDataOnly {
		if !recorded[name] {
			t.Errorf("%q is not a recorded request", name)
		}
	}
	for _, target := range []struct{ name, base string }{{"mock", srv.URL}, {"sandbox", sb.SDSURL()}} {
		t.Run(target.name, func(t *testing.T) {
			t.Parallel()
			for _, c := range answers.Cases {
				compareWithNHS(t, target.base, c)
			}
		})
	}
}

// compareWithNHS sends one recorded request to our SDS at base and compares
// the answer with NHS's: the mock alone and the whole (strict) sandbox
// alike.
func compareWithNHS(t *testing.T, base string, c mocktest.NHSCase) {
	t.Run(c.Name, func(t *testing.T) {
		t.Parallel()
		res, body := mocktest.Send(t, base, c)

		if d, ok := nhsDataOnly[c.Name]; ok {
			assert.Equal(t, res.StatusCode, d.status, "status (NHS's data only: "+d.why+")")
			return
		}
		assert.Equal(t, res.StatusCode, c.NHS.Status, "status")
		assert.Equal(t, res.Header.Get("Content-Type"), c.NHS.Headers["content-type"], "Content-Type")
		// A UUID sent is echoed; without one (or with one that is not a
		// UUID) each service generates its own.
		sentCorr := c.Headers["X-Correlation-Id"]
		if !spinerules.IsUUID(sentCorr) {
			sentCorr = ""
		}
		if sentCorr != "" {
			assert.Equal(t, res.Header.Get("X-Correlation-Id"), c.NHS.Headers["x-correlation-id"], "X-Correlation-Id")
		} else {
			assert.Equal(t, res.Header.Get("X-Correlation-Id") != "", true, "X-Correlation-Id generated")
		}
		assert.Equal(t, res.Header.Get("Etag") != "", c.NHS.Headers["etag"] != "", "Etag present")

		var got, want map[string]any
		assert.NilError(t, json.Unmarshal(body, &got))
		assert.NilError(t, json.Unmarshal(c.NHS.JSON, &want))
		assert.Equal(t, got["resourceType"], want["resourceType"], "resourceType")
		if want["resourceType"] == "Bundle" {
			assert.Equal(t, got["type"], want["type"], "Bundle type")
			assert.DeepEqual(t, selfQuery(t, got), selfQuery(t, want), "self link's query")
			return
		}
		if sentCorr == "" {
			delete(got, "id") // each side generated its own correlation id
			delete(want, "id")
		}
		gotJSON, _ := json.Marshal(got)
		wantJSON, _ := json.Marshal(want)
		opts := jsondiff.DefaultConsoleOptions()
		if d, explain := jsondiff.Compare(gotJSON, wantJSON, &opts); d != jsondiff.FullMatch {
			t.Errorf("OperationOutcome against NHS's answer: %s\n%s", d, explain)
		}
	})
}

// selfQuery is the decoded query of a Bundle's self link; the hosts and
// base paths of the two services differ.
func selfQuery(t *testing.T, bundle map[string]any) url.Values {
	t.Helper()
	links, _ := bundle["link"].([]any)
	if len(links) == 0 {
		t.Fatalf("Bundle has no link")
	}
	link, _ := links[0].(map[string]any)
	assert.Equal(t, link["relation"], any("self"), "link relation")
	s, _ := link["url"].(string)
	u, err := url.Parse(s)
	assert.NilError(t, err)
	return u.Query()
}
