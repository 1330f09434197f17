package sandbox_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
)

// TestRouting: the root paths reach session "default", /s/{id}/ reaches
// that session, an unknown session is a JSON 404.
func TestRouting(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Config{})
	ss := e.session(t, "")
	def, ok := e.Server.Session(sandbox.DefaultSession)
	if !ok {
		t.Fatal("no default session")
	}
	tests := []struct {
		name    string
		url     string
		status  int
		session *sandbox.Session // whose journal gets the hop; nil = none
	}{
		{"root PDS reaches default", e.URL + sandbox.PDSPath + "/Patient/" + nhsBooked, 200, def},
		{"session PDS", ss.URLs().PDS + "/Patient/" + nhsBooked, 200, ss},
		{"unknown session", e.URL + "/s/nosuchsession" + sandbox.PDSPath + "/Patient/" + nhsBooked, 404, nil},
		{"no service in a session", ss.Base + "/nothing-here", 404, nil},
		{"default is not under /s/", e.URL + "/s/default" + sandbox.PDSPath + "/Patient/" + nhsBooked, 404, nil},
		{"default SSP is not under /s/", e.URL + "/s/default/ssp/" + e.URL + "/provider/A20047/STU3/1/gpconnect/metadata", 404, nil},
		{"empty session id", e.URL + "/s/" + sandbox.PDSPath, 404, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			beforeDef, beforeSS := len(def.Journal.Hops()), len(ss.Journal.Hops())
			r := e.do(t, pdsGet(t, tt.url))
			assert.Equal(t, r.status, tt.status, "status of "+tt.url)
			if tt.session == nil {
				problemOf(t, r)
				assert.Equal(t, len(def.Journal.Hops()), beforeDef, "default journal")
				assert.Equal(t, len(ss.Journal.Hops()), beforeSS, "session journal")
				return
			}
			hops := tt.session.Journal.Hops()
			if len(hops) == 0 || hops[len(hops)-1].Name != "pds.retrieve" {
				t.Fatalf("the hop was not recorded in the right session: %v", hopSummary(hops))
			}
			if tt.session == def {
				assert.Equal(t, len(ss.Journal.Hops()), beforeSS, "other session's journal")
			} else {
				assert.Equal(t, len(def.Journal.Hops()), beforeDef, "default journal")
			}
		})
	}
	t.Run("unknown session names the id", func(t *testing.T) {
		r := e.do(t, plain(t, "GET", e.URL+"/s/ghost/ssp/x", ""))
		assert.Equal(t, r.status, 404, "status")
		assert.Contains(t, string(r.body), `no session \"ghost\"`, "body")
	})
}

// TestSDSHandsOutSessionRoots: SDS in a session answers service roots
// inside that session, so the consumer's next hops stay in it.
func TestSDSHandsOutSessionRoots(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Config{})
	ss := e.session(t, "")
	q := url.Values{}
	q.Set("organization", gpc.SystemODSCode+"|"+practiceODS)
	q.Set("identifier", gpc.SystemInteractionID+"|"+string(gpc.SearchSlots))
	r := e.do(t, plain(t, "GET", ss.URLs().SDS+"/Endpoint?"+q.Encode(), ""))
	assert.Equal(t, r.status, 200, "status: "+r.String())
	var b struct {
		Entry []struct {
			Resource struct {
				ResourceType string `json:"resourceType"`
				Address      string `json:"address"`
			} `json:"resource"`
		} `json:"entry"`
	}
	assert.NilError(t, json.Unmarshal(r.body, &b))
	if len(b.Entry) == 0 {
		t.Fatalf("no Endpoint: %s", r)
	}
	want := e.URL + "/s/" + ss.ID + "/provider/"
	for _, en := range b.Entry {
		assert.Equal(t, en.Resource.ResourceType, "Endpoint", "resourceType")
		if !strings.HasPrefix(en.Resource.Address, want) {
			t.Errorf("address %q does not start with %q", en.Resource.Address, want)
		}
	}
	assert.Equal(t, b.Entry[0].Resource.Address, want+practiceODS+"/STU3/1/gpconnect", "service root")
	hops := ss.Journal.Hops()
	assert.DeepEqual(t, hopSummary(hops), []string{"consumer→sds 2a sds.endpoint 200"}, "journal")
}

// TestFullJourney: PDS, SDS, then slot search and booking through the SSP,
// which forwards in process; the journal has both legs of each GP Connect
// call with the diagram's step ids.
func TestFullJourney(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Config{})
	ss := e.session(t, "")
	r := e.do(t, pdsGet(t, ss.URLs().PDS+"/Patient/"+nhsBooked))
	assert.Equal(t, r.status, 200, "PDS: "+r.String())
	q := url.Values{}
	q.Set("organization", gpc.SystemODSCode+"|"+practiceODS)
	q.Set("identifier", gpc.SystemInteractionID+"|"+string(gpc.SearchSlots))
	r = e.do(t, plain(t, "GET", ss.URLs().SDS+"/Endpoint?"+q.Encode(), ""))
	assert.Equal(t, r.status, 200, "SDS: "+r.String())
	assert.Contains(t, string(r.body), serviceRoot(t, ss), "SDS hands out the session's root")

	r = e.do(t, gpcRequest(t, ss, true, gpc.SearchSlots, "GET", slotQuery(ss), ""))
	wantStatus(t, r, 200, "")
	assert.Contains(t, string(r.body), `"resourceType":"Bundle"`, "slot search answer")

	slot := freeSlots(ss)[0]
	r = e.book(t, ss, true, slot)
	wantStatus(t, r, 201, "")
	if !slotBooked(ss, slot.ID) {
		t.Errorf("slot %s is not busy after the booking", slot.ID)
	}
	r = e.book(t, ss, true, slot)
	wantStatus(t, r, 409, string(gpc.DuplicateRejected))

	assert.DeepEqual(t, hopSummary(ss.Journal.Hops()), []string{
		"consumer→pds 1a pds.retrieve 200",
		"consumer→sds 2a sds.endpoint 200",
		"ssp→provider 4b provider.search free slots 200",
		"consumer→ssp 4a ssp.search free slots 200",
		"ssp→provider 6b provider.book appointment 201",
		"consumer→ssp 6a ssp.book appointment 201",
		"ssp→provider 6b provider.book appointment 409",
		"consumer→ssp 6a ssp.book appointment 409",
	}, "journal")
	hops := ss.Journal.Hops()
	last := hops[len(hops)-1]
	assert.Equal(t, last.Code, string(gpc.DuplicateRejected), "journal code of the rejected booking: "+last.ResponseBody+" "+last.ResponseHeader.Get("Content-Encoding"))
	assert.Equal(t, last.ReplyStep, "6d", "reply step")
	assert.Equal(t, hops[len(hops)-2].ReplyStep, "6c", "provider reply step")
	assert.Equal(t, hops[3].Interaction, string(gpc.SearchSlots), "interaction")
	if len(hops[3].Checks) != 0 {
		t.Errorf("a valid request failed SSP checks: %+v", hops[3].Checks)
	}
}

// TestDirectProvider: the provider path answers without the SSP and is
// recorded as one consumer→provider hop.
func TestDirectProvider(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Config{})
	ss := e.session(t, "")
	r := e.do(t, gpcRequest(t, ss, false, gpc.SearchSlots, "GET", slotQuery(ss), ""))
	wantStatus(t, r, 200, "")
	assert.DeepEqual(t, hopSummary(ss.Journal.Hops()), []string{"consumer→provider 4a provider.search free slots 200"}, "journal")
}
