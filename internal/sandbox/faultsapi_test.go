package sandbox_test

import (
	"encoding/json"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
)

// TestLiveFaults: faults added to a live session apply from the next
// request on, the journal's hop names the one it got, a mistake is a 422
// at line and column like a scenario's, and DELETE takes them away again.
func TestLiveFaults(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Config{})
	ss := e.session(t, "")
	url := e.URL + "/_admin/sessions/" + ss.ID + "/faults"
	patient := ss.Base + "/personal-demographics/FHIR/R4/Patient/9693632109"
	faults := func(r response) sandbox.Faults {
		t.Helper()
		var f sandbox.Faults
		assert.NilError(t, json.Unmarshal(r.body, &f))
		return f
	}

	r := e.do(t, plain(t, "GET", url, ""))
	assert.Equal(t, r.status, 200, "GET: "+r.String())
	assert.Equal(t, len(faults(r).Faults), 0, "faults of the built-in world")
	assert.Equal(t, e.do(t, pdsGet(t, patient)).status, 200, "PDS before the fault")

	r = e.do(t, plain(t, "POST", url, "- hop: pds\n  interaction: retrieve\n  status: 503\n  times: 1\n"))
	assert.Equal(t, r.status, 201, "POST: "+r.String())
	got := faults(r).Faults
	assert.Equal(t, len(got), 1, "faults after POST")
	assert.Equal(t, got[0].Source, "live", "source")
	assert.Equal(t, e.do(t, pdsGet(t, patient)).status, 503, "PDS with the fault")
	assert.Equal(t, e.do(t, pdsGet(t, patient)).status, 200, "PDS once the fault's time is used")
	hops := ss.Journal.Hops()
	assert.Equal(t, hops[1].Fault, "pds fault: status 503 (added live)", "the journal names the fault, added live")
	assert.Equal(t, hops[2].Fault, "", "no fault on the next hop")
	assert.Equal(t, faults(e.do(t, plain(t, "GET", url, ""))).Faults[0].Used, 1, "uses")

	// The same checks and messages as a scenario's faults.
	r = e.do(t, plain(t, "POST", url, `[{"hop":"ssp"}]`))
	assert.Equal(t, r.status, 422, "a fault that does nothing: "+r.String())
	p := problemOf(t, r)
	assert.Equal(t, p.Problems[0].File, "request body", "problem file")
	assert.Contains(t, p.Problems[0].Message, "the fault does nothing", "problem")

	r = e.do(t, plain(t, "POST", url, `{"hop":"pds","drop":true}`))
	assert.Equal(t, r.status, 201, "a second fault: "+r.String())
	r = e.do(t, plain(t, "DELETE", url+"?index=5", ""))
	assert.Equal(t, r.status, 404, "no such index: "+r.String())
	problemOf(t, r)
	r = e.do(t, plain(t, "DELETE", url+"?index=1", ""))
	assert.Equal(t, r.status, 200, "DELETE one: "+r.String())
	assert.Equal(t, len(faults(r).Faults), 1, "faults after removing one")
	r = e.do(t, plain(t, "DELETE", url, ""))
	assert.Equal(t, r.status, 200, "DELETE all: "+r.String())
	assert.Equal(t, len(faults(r).Faults), 0, "faults after DELETE")
	assert.Equal(t, e.do(t, pdsGet(t, patient)).status, 200, "PDS after DELETE")

	r = e.do(t, plain(t, "GET", e.URL+"/_admin/sessions/ghost/faults", ""))
	assert.Equal(t, r.status, 404, "unknown session")
}
