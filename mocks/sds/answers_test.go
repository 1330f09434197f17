package sds

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/world"
)

// TestSharedAnswers: sessions made from one template answer every search
// from one encoded answer, each with its own base URL in the service
// roots, fullUrls and self link, a fresh Bundle id and the Etag of its
// own body: byte for byte what the search encoded for the request alone
// gives, ids set aside. Red when the shared answer's key misses what an
// answer depends on (the raw query) or a session gets
// another's base.
func TestSharedAnswers(t *testing.T) {
	t.Parallel()
	tmpl := world.Build(world.Data{
		Consumer: world.ConsumerSystem{ASID: "200000000115", ODS: "A1001", PartyKey: "A1001-821872", Interactions: []gpc.Interaction{gpc.SearchSlots}},
		Practices: []world.Practice{
			{ODS: "A20047", ProviderASID: "918999198993", PartyKey: "A20047-821870", Interactions: []gpc.Interaction{gpc.SearchSlots, gpc.CreateAppointment}},
			{ODS: "B82617", ProviderASID: "918999198994", PartyKey: "B82617-821871", Endpoint: "https://gp.example/gpc", Interactions: []gpc.Interaction{gpc.SearchSlots}},
		},
	})
	org, slots := "organization=https://fhir.nhs.uk/Id/ods-organization-code|", "identifier=https://fhir.nhs.uk/Id/nhsServiceInteractionId|"+string(gpc.SearchSlots)
	queries := []string{
		"/Endpoint?" + org + "A20047&" + slots,
		"/Endpoint?" + org + "a20047&" + slots, // the same search spelt otherwise: its own self link
		"/Endpoint?" + org + "B82617&" + slots,
		"/Endpoint?" + org + "A20047&identifier=https://fhir.nhs.uk/Id/nhsServiceInteractionId|" + string(gpc.CreateAppointment),
		"/Endpoint?" + org + "Z99999&" + slots,
		"/Device?" + org + "A20047&" + slots,
		"/Device?" + org + "A1001&" + slots,
		"/Device?" + org + "A1001&" + slots + "&identifier=https://fhir.nhs.uk/Id/nhsMhsPartyKey|A1001-821872",
	}
	bases := []string{"http://127.0.0.1:4000/s/one", "http://127.0.0.1:4000/s/two", "http://sandbox.example:8080"}
	get := func(s *server, path, accept string) (body []byte, id string) {
		t.Helper()
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("Accept", accept)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		res := rec.Result()
		body, _ = io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", path, res.StatusCode, body)
		}
		sum := sha1.Sum(body)
		assert.Equal(t, res.Header.Get("Etag"), `"`+hex.EncodeToString(sum[:])+`"`, path+": Etag of the body")
		var b struct{ ID string }
		assert.NilError(t, json.Unmarshal(body, &b))
		return body, b.ID
	}
	for range 2 { // the first round fills the answers, the second reads them
		for _, accept := range []string{"application/fhir+json", "application/json"} {
			for _, q := range queries {
				for _, base := range bases {
					w := tmpl.World(base, nil)
					shared := New(w).(*server)
					direct := New(w).(*server)
					direct.direct = true
					got, gotID := get(shared, q, accept)
					want, wantID := get(direct, q, accept)
					if gotID == wantID {
						t.Errorf("%s: one Bundle id for two answers", q)
					}
					if !bytes.Equal(bytes.Replace(got, []byte(gotID), []byte("ID"), 1), bytes.Replace(want, []byte(wantID), []byte("ID"), 1)) {
						t.Errorf("%s at %s (%s): shared answer differs:\n%s\nwant\n%s", q, base, accept, got, want)
					}
				}
			}
		}
	}
}

// TestSplitAnswer: marks at the start, the end, side by side.
func TestSplitAnswer(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "x", baseMark, baseMark + idMark + baseMark, "a" + idMark + "b" + baseMark + "c", idMark + "/" + idMark} {
		want := bytes.ReplaceAll(bytes.ReplaceAll([]byte(s), []byte(baseMark), []byte("B")), []byte(idMark), []byte("I"))
		assert.Equal(t, string(splitAnswer([]byte(s)).appendTo(nil, "B", "I")), string(want), s)
	}
}
