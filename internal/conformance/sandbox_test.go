package conformance_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/journal"
	"github.com/spine-sandbox/spine-sandbox/internal/jwt"
	"github.com/spine-sandbox/spine-sandbox/internal/runner"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox/sandboxtest"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
)

// TestSandboxRecordsJWTVerdict: a consumer→SSP request whose token has
// exp−iat=301 is journalled with a failed JWT_EXP_NOT_IAT_PLUS_300 verdict
// on the consumer→ssp hop, whatever the SSP answers.
func TestSandboxRecordsJWTVerdict(t *testing.T) {
	t.Parallel()
	sb := sandboxtest.Start(t, "")
	w := sb.Session.World
	p, _ := w.Practice(practiceODS)
	rt := w.ServiceRoot(p)
	tok, err := jwt.Build(identity, rt, gpc.OrganizationRead, w.Now())
	assert.NilError(t, err)
	tok = retimed(t, tok, 301)
	req, err := http.NewRequest("GET", sb.SSP+rt+"/Slot?start=2026-03-02&end=2026-03-03&status=free&_include=Slot:schedule", nil)
	assert.NilError(t, err)
	req.Header["Ssp-TraceID"] = []string{traceID}
	req.Header["Ssp-From"] = []string{consumerASID}
	req.Header["Ssp-To"] = []string{providerASID}
	req.Header["Ssp-InteractionID"] = []string{string(gpc.SearchSlots)}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/fhir+json")
	res, err := http.DefaultClient.Do(req)
	assert.NilError(t, err)
	io.Copy(io.Discard, res.Body)
	res.Body.Close()

	var hop *journal.Hop
	for _, h := range sb.Hops() {
		if h.From == journal.Consumer && h.To == journal.SSP {
			hop = &h
		}
	}
	if hop == nil {
		t.Fatalf("no consumer→ssp hop in %d hops", len(sb.Hops()))
	}
	var got []journal.Verdict
	for _, v := range hop.Checks {
		if v.Check == jwt.RuleExpNotIatPlus300 {
			got = append(got, v)
		}
	}
	if len(got) != 1 {
		t.Fatalf("want one %s verdict on the consumer→ssp hop, got %+v", jwt.RuleExpNotIatPlus300, hop.Checks)
	}
	assert.Equal(t, got[0].Passed, false, "passed")
	assert.Equal(t, got[0].Severity, "error", "severity")
	assert.Equal(t, got[0].Section, "gpconnect-1.6.md §2.2, §2.4", "section")
	assert.Contains(t, got[0].Message, "exp - iat must be 300", "message")
	// the provider leg is not judged again
	for _, h := range sb.Hops() {
		if h.From == journal.SSP {
			for _, v := range h.Checks {
				if v.Check == jwt.RuleExpNotIatPlus300 {
					t.Errorf("ssp→provider hop carries the consumer verdict %+v", v)
				}
			}
		}
	}
}

// TestHappyPathHasNoFailedVerdicts: the built-in consumer's happy path
// journals no failed conformance verdict on any hop.
func TestHappyPathHasNoFailedVerdicts(t *testing.T) {
	t.Parallel()
	sc, err := scenario.LoadFile("../../scenarios/happy-path.yaml")
	assert.NilError(t, err)
	res := runner.Run(context.Background(), []*scenario.Scenario{sc}, runner.Options{FixtureDir: "../../fixtures", Parallel: 1})
	assert.Equal(t, len(res), 1, "results")
	if !res[0].Passed {
		t.Fatalf("happy path failed: %+v", res[0].Failures)
	}
	judged := 0
	for _, h := range res[0].Hops {
		if h.From == journal.Consumer {
			judged++
		}
		for _, v := range h.Checks {
			if !v.Passed {
				t.Errorf("%s→%s %s: failed verdict %s: %s", h.From, h.To, h.Name, v.Check, v.Message)
			}
		}
	}
	if judged < 4 {
		t.Errorf("only %d consumer hops journalled", judged)
	}
}
