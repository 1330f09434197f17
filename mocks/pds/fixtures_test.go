package pds_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
	"github.com/spine-sandbox/spine-sandbox/internal/world"
	"github.com/spine-sandbox/spine-sandbox/mocks/pds"
)

// update rewrites the fixtures from the mock's answers. Review the diff
// against NHS's captured responses before committing: the fixtures are the
// shapes PDS gives, not whatever the mock happens to say.
var update = flag.Bool("update", false, "rewrite fixtures/pds from the mock's responses")

// fixtureDir holds this package's golden responses.
const fixtureDir = "../../fixtures/pds"

// TestFixtures compares whole responses with the fixtures: the built-in
// world's answers, whose shared patients are NHS's own sandbox records
// (pds-sds-fhir.md §2, examples/pds) — a full, a restricted and a minimal
// record, searchsets — and every error body.
func TestFixtures(t *testing.T) {
	t.Parallel()
	data, err := scenario.Default().World(fixedNow)
	assert.NilError(t, err)
	// The built-in world has no invalidated record; this one has.
	data.Patients = append(data.Patients, world.Patient{
		NHSNumber: "9000000068", Name: &world.Name{Given: []string{"Jane"}, Family: "Smith"},
		BirthDate: "2010-10-22", Gender: "female", Practice: "Y12345", Invalidated: true,
	})
	srv := httptest.NewServer(pds.New(world.New(data, baseURL, func() time.Time { return fixedNow })))
	t.Cleanup(srv.Close)
	tests := []struct {
		fixture string
		method  string
		target  string
		headers map[string]string
		status  int
	}{
		{"retrieve_full_9000000009.json", http.MethodGet, "/Patient/9000000009", nil, 200},
		{"retrieve_restricted_9000000025.json", http.MethodGet, "/Patient/9000000025", nil, 200},
		{"retrieve_minimal_9000000033.json", http.MethodGet, "/Patient/9000000033", nil, 200},
		{"retrieve_A20047_9693632109.json", http.MethodGet, "/Patient/9693632109", nil, 200},
		{"search_smith.json", http.MethodGet, "/Patient?family=Smith&gender=female&birthdate=eq2010-10-22", nil, 200},
		{"search_smythe_restricted.json", http.MethodGet, "/Patient?family=Smythe&given=Janet&gender=female&birthdate=eq2005-06-16", nil, 200},
		{"search_wildcard.json", http.MethodGet, "/Patient?family=Sm*&gender=female&birthdate=eq2010-10-22", nil, 200},
		{"search_no_match.json", http.MethodGet, "/Patient?family=Nobody&birthdate=eq2010-10-22", nil, 200},
		{"error_too_many_matches.json", http.MethodGet, "/Patient?family=Sm*&gender=female&birthdate=eq2010-10-22&_max-results=1", nil, 200},
		{"error_invalid_resource_id.json", http.MethodGet, "/Patient/9000000000", nil, 400},
		{"error_resource_not_found.json", http.MethodGet, "/Patient/9111231130", nil, 404},
		{"error_invalidated_resource.json", http.MethodGet, "/Patient/9000000068", nil, 404},
		{"error_missing_request_id.json", http.MethodGet, "/Patient/9000000009", map[string]string{"X-Request-ID": "-"}, 400},
		{"error_invalid_request_id.json", http.MethodGet, "/Patient/9000000009", map[string]string{"X-Request-ID": "abc"}, 400},
		{"error_missing_access_token.json", http.MethodGet, "/Patient/9000000009", map[string]string{"Authorization": "Basic abc"}, 401},
		{"error_invalid_access_token.json", http.MethodGet, "/Patient/9000000009", map[string]string{"Authorization": "Bearer a.b"}, 401},
		{"error_search_no_parameters.json", http.MethodGet, "/Patient", nil, 400},
		{"error_search_unknown_parameter.json", http.MethodGet, "/Patient?family=Smith&birthdate=2010-10-22&foo=bar", nil, 400},
		{"error_search_missing_birthdate.json", http.MethodGet, "/Patient?family=Smith", nil, 400},
		{"error_search_missing_family.json", http.MethodGet, "/Patient?birthdate=2010-10-22", nil, 400},
		{"error_search_bad_gender.json", http.MethodGet, "/Patient?family=Smith&birthdate=2010-10-22&gender=f", nil, 400},
		{"error_search_bad_max_results.json", http.MethodGet, "/Patient?family=Smith&birthdate=2010-10-22&_max-results=51", nil, 400},
		{"error_unsupported_method.json", http.MethodPatch, "/Patient/9000000009", nil, 400},
		{"error_unknown_path.json", http.MethodGet, "/Organization/Y12345", nil, 404},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			t.Parallel()
			res := send(t, srv, tt.method, tt.target, tt.headers)
			assert.Equal(t, res.status, tt.status, "status")
			assert.Equal(t, res.header.Get("Content-Type"), "application/fhir+json", "Content-Type")
			path := filepath.Join(fixtureDir, tt.fixture)
			if *update {
				var out bytes.Buffer
				assert.NilError(t, json.Indent(&out, res.body, "", "  "))
				out.WriteByte('\n')
				assert.NilError(t, os.WriteFile(path, out.Bytes(), 0o644))
				return
			}
			want, err := os.ReadFile(path)
			assert.NilError(t, err)
			assert.JSONEqual(t, stripVolatile(t, res.body), stripVolatile(t, want), "response against "+tt.fixture)
		})
	}
}

// stripVolatile removes the fields that change between runs of NHS's
// sandbox (the bundle timestamp), so structure and values are compared.
func stripVolatile(t *testing.T, body []byte) []byte {
	t.Helper()
	var v map[string]json.RawMessage
	assert.NilError(t, json.Unmarshal(body, &v))
	delete(v, "timestamp")
	out, err := json.Marshal(v)
	assert.NilError(t, err)
	return out
}
