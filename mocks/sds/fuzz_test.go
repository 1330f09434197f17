package sds_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/world"
	"github.com/spine-sandbox/spine-sandbox/mocks/sds"
)

// FuzzQuery: any query string on GET /Endpoint and GET /Device gets a
// Bundle (200) or SDS's OperationOutcome with a 4xx — never a panic, never
// a 500, never a body that is not JSON (issue 13: the query parser is what
// a hostile client reaches first).
func FuzzQuery(f *testing.F) {
	for _, seed := range []string{
		"organization=https://fhir.nhs.uk/Id/ods-organization-code|A20047&identifier=https://fhir.nhs.uk/Id/nhsServiceInteractionId|urn:nhs:names:services:gpconnect:fhir:rest:search:slot-1",
		"identifier=https://fhir.nhs.uk/Id/nhsMhsPartyKey|A20047-821634&identifier=https://fhir.nhs.uk/Id/nhsServiceInteractionId|x",
		"organization=https://fhir.nhs.uk/Id/ods-organization-code|&manufacturing-organization=x",
		"organization", "%zz=1", "identifier=%", "&&=&", "a=b&a=c&organization=|",
	} {
		f.Add(seed)
	}
	clock := func() time.Time { return time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) }
	h := sds.New(world.New(testData(), publicBase, clock))
	f.Fuzz(func(t *testing.T, query string) {
		for _, path := range []string{"/Endpoint", "/Device"} {
			req := httptest.NewRequest(http.MethodGet, path, nil)
			req.URL.RawQuery = query
			req.Header.Set("apikey", "any-key")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK && (rec.Code < 400 || rec.Code >= 500) {
				t.Fatalf("%s?%s: status %d, want 200 or 4xx\n%s", path, query, rec.Code, rec.Body)
			}
			var body struct {
				ResourceType string `json:"resourceType"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("%s?%s: body is not JSON: %v\n%s", path, query, err, rec.Body)
			}
			want := "OperationOutcome"
			if rec.Code == http.StatusOK {
				want = "Bundle"
			}
			if body.ResourceType != want {
				t.Fatalf("%s?%s: status %d with resourceType %q, want %q", path, query, rec.Code, body.ResourceType, want)
			}
		}
	})
}
