package pds_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/world"
	"github.com/spine-sandbox/spine-sandbox/mocks/pds"
)

// FuzzSearchQuery: any query string on GET /Patient gets a search Bundle
// (200) or PDS's OperationOutcome with a 4xx — never a panic, never a 500,
// never a body that is not JSON. The query parser is what a hostile client
// reaches first on a shared sandbox (issue 13).
func FuzzSearchQuery(f *testing.F) {
	for _, seed := range []string{
		"family=GARTON&birthdate=eq1938-09-19",
		"family=Sm*&given=Jane&birthdate=ge1900-01-01&birthdate=le2020-01-01&gender=female",
		"family=Smith&birthdate=2010-10-22&_fuzzy-match=true&_max-results=1",
		"family=Smyth&birthdate=eq2010-10-22&address-postcode=DN16%203SS&general-practitioner=Y12345",
		"family=%zz", "death-date=eq2010-10-22&death-date=le2011-01-01&family=a&birthdate=1",
		"&&&=&", "family=" + string(make([]byte, 300)),
	} {
		f.Add(seed)
	}
	w := world.New(world.Data{Patients: sandboxPatients()}, baseURL, func() time.Time { return fixedNow })
	h := pds.New(w)
	f.Fuzz(func(t *testing.T, query string) {
		req := httptest.NewRequest(http.MethodGet, "/Patient", nil)
		req.URL.RawQuery = query
		req.Header.Set("X-Request-ID", requestID)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK && (rec.Code < 400 || rec.Code >= 500) {
			t.Fatalf("query %q: status %d, want 200 or 4xx\n%s", query, rec.Code, rec.Body)
		}
		var body struct {
			ResourceType string `json:"resourceType"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("query %q: body is not JSON: %v\n%s", query, err, rec.Body)
		}
		want := "OperationOutcome"
		if code, _ := gpc.SpineCode(rec.Body.Bytes()); rec.Code == http.StatusOK && code != "TOO_MANY_MATCHES" {
			// §2.4: too many matches is the one 200 with an OperationOutcome.
			want = "Bundle"
		}
		if body.ResourceType != want {
			t.Fatalf("query %q: status %d with resourceType %q, want %q", query, rec.Code, body.ResourceType, want)
		}
	})
}
