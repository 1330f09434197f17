package pds_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
)

// bundleJSON is the part of a searchset Bundle the tests look into.
type bundleJSON struct {
	ResourceType string  `json:"resourceType"`
	Type         string  `json:"type"`
	Timestamp    string  `json:"timestamp"`
	Total        *int    `json:"total"`
	Entry        []entry `json:"entry"`
}

type entry struct {
	FullURL string `json:"fullUrl"`
	Search  struct {
		Score json.Number `json:"score"`
	} `json:"search"`
	Resource patientJSON `json:"resource"`
}

func TestSearch(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	tests := []struct {
		name   string
		query  string
		status int
		code   string   // Spine code of an OperationOutcome, "" for a Bundle
		ids    []string // entries in order
		scores []string
	}{
		// NHS's sandbox scenarios (pds-sds-fhir.md §2.7).
		{"simple search", "family=Smith&gender=female&birthdate=eq2010-10-22", 200, "", []string{"9000000009"}, []string{"1"}},
		{"restricted patient found by name", "family=Smythe&given=Janet&gender=female&birthdate=eq2005-06-16", 200, "", []string{"9000000025"}, []string{"1"}},
		{"wildcard family", "family=Sm*&gender=female&birthdate=eq2010-10-22", 200, "", []string{"9000000009", "9000000017"}, []string{"0.8343", "0.8343"}},
		{"more matches than _max-results", "family=Sm*&gender=female&birthdate=eq2010-10-22&_max-results=1", 200, "TOO_MANY_MATCHES", nil, nil},
		{"_max-results equal to matches", "family=Sm*&gender=female&birthdate=eq2010-10-22&_max-results=2", 200, "", []string{"9000000009", "9000000017"}, []string{"0.8343", "0.8343"}},
		// Matching rules.
		{"no match is an empty bundle", "family=Nobody&birthdate=2010-10-22", 200, "", nil, nil},
		{"family is case-insensitive", "family=garton&birthdate=1946-06-23", 200, "", []string{"9693632109"}, []string{"1"}},
		{"eq prefix is optional", "family=GARTON&birthdate=1946-06-23", 200, "", []string{"9693632109"}, []string{"1"}},
		{"second given name", "family=KILLEN&given=Roger&birthdate=1955-05-27", 200, "", []string{"9733162043"}, []string{"1"}},
		{"both given names", "family=MOONEY&given=Conrad&given=Landon&birthdate=1937-04-08", 200, "", []string{"9736363015"}, []string{"1"}},
		{"given that does not match", "family=MOONEY&given=Fred&birthdate=1937-04-08", 200, "", nil, nil},
		{"gender that does not match", "family=Smith&gender=male&birthdate=2010-10-22", 200, "", nil, nil},
		{"birthdate range", "family=Smith&birthdate=ge2010-10-21&birthdate=le2010-10-23", 200, "", []string{"9000000009"}, []string{"1"}},
		{"birthdate open range", "family=GARTON&birthdate=le1950-01-01", 200, "", []string{"9693632109"}, []string{"1"}},
		{"birthdate outside range", "family=Smith&birthdate=ge2011-01-01", 200, "", nil, nil},
		{"death-date", "family=Smith&birthdate=2010-10-22&death-date=eq2010-10-22", 200, "", []string{"9000000009"}, []string{"1"}},
		{"death-date excludes the living", "family=Smyth&birthdate=2010-10-22&death-date=ge2000-01-01", 200, "", nil, nil},
		{"general-practitioner", "family=Sm*&birthdate=2010-10-22&general-practitioner=Y12345", 200, "", []string{"9000000009", "9000000017"}, []string{"0.8343", "0.8343"}},
		{"general-practitioner elsewhere", "family=GARTON&birthdate=1946-06-23&general-practitioner=Y12345", 200, "", nil, nil},
		{"address-postcode ignores spaces", "family=Smith&birthdate=2010-10-22&address-postcode=LS14AP", 200, "", []string{"9000000009"}, []string{"1"}},
		{"address-postalcode wildcard", "family=Smith&birthdate=2010-10-22&address-postalcode=LS1*", 200, "", []string{"9000000009"}, []string{"0.8343"}},
		{"email", "family=Smith&birthdate=2010-10-22&email=Jane.Smith@example.org", 200, "", []string{"9000000009"}, []string{"1"}},
		{"phone ignores spacing", "family=Smith&birthdate=2010-10-22&phone=01632960123", 200, "", []string{"9000000009"}, []string{"1"}},
		{"fuzzy match", "family=Smithe&given=Jane&birthdate=2010-10-22&_fuzzy-match=true", 200, "", []string{"9000000009", "9000000017"}, []string{"0.8976", "0.8976"}},
		{"fuzzy exact name scores 1", "family=Smyth&birthdate=2010-10-22&_fuzzy-match=true", 200, "", []string{"9000000017", "9000000009"}, []string{"1", "0.8976"}},
		{"exact match drops wildcard matches", "family=Sm*&birthdate=2010-10-22&_exact-match=true", 200, "", nil, nil},
		{"exact match keeps exact matches", "family=Smith&birthdate=2010-10-22&_exact-match=true&_history=true", 200, "", []string{"9000000009"}, []string{"1"}},
		// Restricted, superseded and invalidated records.
		{"restricted withheld from postcode search", "family=Smythe&birthdate=2005-06-16&address-postcode=YO1+7HH", 200, "", nil, nil},
		{"restricted found without GP param", "family=Brown&birthdate=1980-01-01", 200, "", []string{"9000000076"}, []string{"1"}},
		{"restricted withheld from GP search", "family=Brown&birthdate=1980-01-01&general-practitioner=A20047", 200, "", nil, nil},
		{"family wildcard alone", "family=*&birthdate=2010-10-22", 400, "INVALID_SEARCH_DATA", nil, nil},
		// Parameter errors.
		{"no parameters", "", 400, "UNSUPPORTED_SERVICE", nil, nil},
		{"unknown parameter", "family=Smith&birthdate=2010-10-22&nhs-number=9000000009", 400, "ADDITIONAL_PROPERTIES", nil, nil},
		{"missing birthdate", "family=Smith&gender=female", 400, "MISSING_VALUE", nil, nil},
		{"empty birthdate", "family=Smith&birthdate=", 400, "INVALID_VALUE", nil, nil}, // NHS checks the form before presence
		{"bad birthdate before missing family", "birthdate=22-10-2010", 400, "INVALID_VALUE", nil, nil},
		{"two unknown parameters", "foo=1&family=Smith&bar=2&birthdate=2010-10-22", 400, "ADDITIONAL_PROPERTIES", nil, nil},
		{"missing family", "gender=female&birthdate=eq2010-10-22", 400, "INVALID_SEARCH_DATA", nil, nil},
		{"family twice", "family=Smith&family=Smyth&birthdate=2010-10-22", 400, "INVALID_SEARCH_DATA", nil, nil},
		{"bad gender", "family=Smith&gender=f&birthdate=2010-10-22", 400, "INVALID_VALUE", nil, nil},
		{"empty gender", "family=Smith&gender=&birthdate=2010-10-22", 400, "INVALID_VALUE", nil, nil},
		{"bad birthdate prefix", "family=Smith&birthdate=gt2010-10-22", 400, "INVALID_VALUE", nil, nil},
		{"impossible birthdate", "family=Smith&birthdate=2010-02-30", 400, "INVALID_VALUE", nil, nil},
		{"two birthdates not a range", "family=Smith&birthdate=eq2010-10-22&birthdate=le2010-10-23", 400, "INVALID_SEARCH_DATA", nil, nil},
		{"three birthdates", "family=Smith&birthdate=ge2010-10-21&birthdate=le2010-10-23&birthdate=2010-10-22", 400, "INVALID_SEARCH_DATA", nil, nil},
		{"bad death-date", "family=Smith&birthdate=2010-10-22&death-date=yesterday", 400, "INVALID_VALUE", nil, nil},
		{"_max-results zero", "family=Smith&birthdate=2010-10-22&_max-results=0", 400, "INVALID_VALUE", nil, nil},
		{"_max-results 51", "family=Smith&birthdate=2010-10-22&_max-results=51", 400, "INVALID_VALUE", nil, nil},
		{"_max-results not a number", "family=Smith&birthdate=2010-10-22&_max-results=many", 400, "INVALID_VALUE", nil, nil},
		{"_max-results 50", "family=Smith&birthdate=2010-10-22&_max-results=50", 200, "", []string{"9000000009"}, []string{"1"}},
		{"_fuzzy-match not boolean", "family=Smith&birthdate=2010-10-22&_fuzzy-match=yes", 400, "INVALID_VALUE", nil, nil},
		{"_history not boolean", "family=Smith&birthdate=2010-10-22&_history=1", 400, "INVALID_VALUE", nil, nil},
		{"fuzzy and exact together", "family=Smith&birthdate=2010-10-22&_fuzzy-match=true&_exact-match=true", 400, "INVALID_SEARCH_DATA", nil, nil},
		{"wildcard in first two characters", "family=S*&birthdate=2010-10-22", 400, "INVALID_SEARCH_DATA", nil, nil},
		{"wildcard in given", "family=Smith&given=*ane&birthdate=2010-10-22", 400, "INVALID_SEARCH_DATA", nil, nil},
		{"wildcard with fuzzy", "family=Smi*&birthdate=2010-10-22&_fuzzy-match=true", 400, "INVALID_SEARCH_DATA", nil, nil},
		{"wildcard postcode too early", "family=Smith&birthdate=2010-10-22&address-postcode=L*", 400, "INVALID_SEARCH_DATA", nil, nil},
		{"lower-case ODS code", "family=Smith&birthdate=2010-10-22&general-practitioner=y12345", 400, "INVALID_VALUE", nil, nil},
		{"malformed query", "family=Smith&birthdate=2010-10-22&given=%zz", 400, "INVALID_SEARCH_DATA", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := send(t, srv, http.MethodGet, "/Patient?"+tt.query, nil)
			assert.Equal(t, res.status, tt.status, "status")
			assert.Equal(t, res.code(), tt.code, "Spine code")
			assert.Equal(t, res.header.Get("Content-Type"), "application/fhir+json", "Content-Type")
			assert.Equal(t, res.header.Get("X-Request-ID"), requestID, "X-Request-ID")
			assert.Equal(t, res.header.Get("ETag"), "", "ETag")
			if tt.code != "" {
				return
			}
			var b bundleJSON
			assert.NilError(t, json.Unmarshal(res.body, &b))
			var ids, scores []string
			for _, e := range b.Entry {
				ids = append(ids, e.Resource.ID)
				scores = append(scores, e.Search.Score.String())
			}
			assert.Equal(t, strings.Join(ids, ","), strings.Join(tt.ids, ","), "entry ids")
			assert.Equal(t, strings.Join(scores, ","), strings.Join(tt.scores, ","), "entry scores")
			if b.Total == nil {
				t.Fatalf("total missing: %s", res.body)
			}
			assert.Equal(t, *b.Total, len(tt.ids), "total")
		})
	}
}

func TestSearchBundle(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	res := send(t, srv, http.MethodGet, "/Patient?family=Smith&gender=female&birthdate=eq2010-10-22", nil)
	assert.Equal(t, res.status, 200, "status")
	var b bundleJSON
	assert.NilError(t, json.Unmarshal(res.body, &b))
	assert.Equal(t, b.ResourceType, "Bundle", "resourceType")
	assert.Equal(t, b.Type, "searchset", "type")
	assert.Equal(t, b.Timestamp, "2026-11-24T06:45:12.742Z", "timestamp (the world's clock)")
	if len(b.Entry) != 1 {
		t.Fatalf("entries = %d, want 1: %s", len(b.Entry), res.body)
	}
	e := b.Entry[0]
	assert.Equal(t, e.FullURL, "http://127.0.0.1:4000/personal-demographics/FHIR/R4/Patient/9000000009", "fullUrl")
	assert.Equal(t, len(e.Resource.Address), 1, "addresses (search returns home addresses only)")
	assert.Equal(t, len(e.Resource.GeneralPractitioner), 1, "generalPractitioner")

	res = send(t, srv, http.MethodGet, "/Patient?family=Smythe&given=Janet&birthdate=eq2005-06-16", nil)
	b = bundleJSON{} // Unmarshal would merge into the previous entries
	assert.NilError(t, json.Unmarshal(res.body, &b))
	if len(b.Entry) != 1 {
		t.Fatalf("entries = %d, want 1: %s", len(b.Entry), res.body)
	}
	p := b.Entry[0].Resource
	assert.Equal(t, p.Meta.Security[0].Code, "R", "restricted security label")
	assert.Equal(t, len(p.Address)+len(p.Telecom)+len(p.Contact)+len(p.GeneralPractitioner), 0, "withheld elements in search")

	res = send(t, srv, http.MethodGet, "/Patient?family=Nobody&birthdate=2010-10-22", nil)
	var raw map[string]json.RawMessage
	assert.NilError(t, json.Unmarshal(res.body, &raw))
	assert.Equal(t, string(raw["total"]), "0", "total of an empty search")
	if _, ok := raw["entry"]; ok {
		t.Errorf("empty search has an entry element: %s", res.body)
	}
}

// TestSearchDiagnostics: the search errors' diagnostics are NHS's words,
// and every unknown parameter is named in the order sent (docs/fidelity.md).
func TestSearchDiagnostics(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	tests := []struct {
		query, code, diagnostics string
	}{
		{"foo=1&family=Smith&bar=2&birthdate=2010-10-22&foo=3", "ADDITIONAL_PROPERTIES", "Invalid request with error - Additional properties are not allowed ('foo', 'bar' were unexpected)"},
		{"family=Smith&history=true&birthdate=2010-10-22", "ADDITIONAL_PROPERTIES", "Invalid request with error - Additional properties are not allowed ('history' was unexpected)"},
		{"family=Smith&gender=female", "MISSING_VALUE", "Missing value - 'birth_date/birth_date_range_start/birth_date_range_end'"},
		{"gender=female&birthdate=eq2010-10-22", "INVALID_SEARCH_DATA", "Invalid search data provided - 'No searches were performed as the search criteria did not meet the minimum requirements'"},
		{"birthdate=2010-13-45&family=Smith", "INVALID_VALUE", "Invalid value - '2010-13-45' in field 'birthdate'"},
		{"family=Smith&birthdate=2010-10-22&death-date=x", "INVALID_VALUE", "Invalid value - 'x' in field 'death-date'"},
		{"", "UNSUPPORTED_SERVICE", ""},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			t.Parallel()
			res := send(t, srv, http.MethodGet, "/Patient?"+tt.query, nil)
			assert.Equal(t, res.status, http.StatusBadRequest, "status")
			code, diagnostics := gpc.SpineCode(res.body)
			assert.Equal(t, code, tt.code, "Spine code")
			assert.Equal(t, diagnostics, tt.diagnostics, "diagnostics")
		})
	}
}
