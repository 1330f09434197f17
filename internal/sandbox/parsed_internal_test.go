package sandbox

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/jwt"
	"github.com/spine-sandbox/spine-sandbox/mocks/provider"
)

// TestJudgesParseReachesTheProvider: the judge's rules keep their parse of
// a request on its hop (parseRequest), and the in-process transport hands
// the hop's parse to the provider with the forwarded request — shown by a
// parse of a week's slot search said to be of one day's, which the
// provider answers with the week.
func TestJudgesParseReachesTheProvider(t *testing.T) {
	t.Parallel()
	s, ss := sessionABC(t)
	p, _ := ss.World.Practice("A20047")
	root := ss.World.ServiceRoot(p)
	tok, err := jwt.Build(jwt.Identity{Issuer: "https://c.example/", DeviceID: "1", DeviceModel: "m", DeviceVersion: "1",
		OrgODS: "A1001", OrgName: "Org", PractitionerID: "1", Family: "F", Given: []string{"G"}}, root, gpc.OrganizationRead, ss.World.Now())
	assert.NilError(t, err)
	now := ss.World.Now()
	query := func(days int) string {
		return "status=free&start=ge" + now.AddDate(0, 0, 1).Format("2006-01-02") + "&end=le" +
			now.AddDate(0, 0, days).Format("2006-01-02") + "&_include=Slot:schedule"
	}
	day, week := query(1), query(7)
	tr := &inProcess{s: s, ss: ss, provider: "/s/abc/provider/"}
	search := func(q string, parsed *provider.Parsed) string {
		t.Helper()
		st := &hopState{Context: context.Background(), tee: &teeWriter{}, parsed: parsed}
		req, _ := http.NewRequestWithContext(st, "GET", root+"/Slot?"+q, nil)
		req.Header.Set("Ssp-TraceID", gpc.NewUUID())
		req.Header.Set("Ssp-From", "200000000115")
		req.Header.Set("Ssp-To", p.ProviderASID)
		req.Header.Set("Ssp-InteractionID", string(gpc.SearchSlots))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Accept", "application/fhir+json")
		res, err := tr.RoundTrip(req)
		assert.NilError(t, err)
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		assert.Equal(t, res.StatusCode, 200, "status: "+string(b))
		return string(b)
	}
	ownDay, ownWeek := search(day, nil), search(week, nil)
	if ownDay == ownWeek {
		t.Fatal("the day's and the week's answers are the same: the test shows nothing")
	}

	// The judge's rules, on the SSP's hop.
	st := &hopState{Context: context.Background()}
	r, _ := http.NewRequestWithContext(st, "GET", "http://sandbox.test:4000/s/abc/ssp/"+root+"/Slot?"+day, nil)
	assert.NilError(t, parseRequest(r, gpc.SearchSlots, r.URL.Query(), nil))
	if st.parsed == nil {
		t.Fatal("the hop keeps no parse")
	}
	same := func(got, want, what string) {
		t.Helper()
		if got != want {
			t.Errorf("%s: %d bytes, want the %d of %.60s…", what, len(got), len(want), want)
		}
	}
	same(search(day, st.parsed), ownDay, "the day's search with its own parse")

	weekQ, _ := url.ParseQuery(week)
	lying, _ := provider.Parse(gpc.SearchSlots, http.Header{}, day, weekQ, nil)
	same(search(day, lying), ownWeek, "the day's search with a parse of the week said to be the day's")
}
