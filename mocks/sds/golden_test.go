package sds_test

import (
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
)

var update = flag.Bool("update", false, "rewrite fixtures/sds from the mock's answers")

// fixtureDir holds the expected answers, in the shapes of NHS's SDS sandbox
// captures with this sandbox's own values.
const fixtureDir = "../../fixtures/sds"

// TestFixtures compares whole answers with the fixtures, semantically, after
// removing what changes on every call: the Bundle id (random) and the
// OperationOutcome id (the correlation id, generated when not sent).
func TestFixtures(t *testing.T) {
	t.Parallel()
	srv := newServer(t, testData())
	withCorr := map[string]string{"X-Correlation-Id": corrID}
	tests := []struct {
		file   string
		method string
		target string
		header map[string]string
		status int
	}{
		{"endpoint_A20047_slot.json", "GET", "/Endpoint?" + orgPrefix + "A20047&" + inPrefix + slots, nil, http.StatusOK},
		{"endpoint_Y12345_slot_partykey.json", "GET", "/Endpoint?" + orgPrefix + "Y12345&" + inPrefix + slots + "&" + pkPrefix + y12345PK, nil, http.StatusOK},
		{"endpoint_no_match.json", "GET", "/Endpoint?" + orgPrefix + "B99999&" + inPrefix + slots, nil, http.StatusOK},
		{"device_A20047_partykey.json", "GET", "/Device?" + orgPrefix + "A20047&" + inPrefix + slots + "&" + pkPrefix + a20047PK, nil, http.StatusOK},
		{"device_consumer_manufacturer.json", "GET", "/Device?" + orgPrefix + consumerODS + "&" + inPrefix + slots + "&" + mfPrefix + supplierODS, nil, http.StatusOK},
		{"error_illegal_param.json", "GET", "/Endpoint?" + orgPrefix + "A20047&" + inPrefix + slots + "&foo=bar", withCorr, http.StatusBadRequest},
		{"error_endpoint_org_only.json", "GET", "/Endpoint?" + orgPrefix + "A20047", withCorr, http.StatusBadRequest},
		{"error_device_missing_identifier.json", "GET", "/Device?" + orgPrefix + "A20047", withCorr, http.StatusBadRequest},
		{"error_bad_correlation_id.json", "GET", "/Device?" + orgPrefix + "A20047&" + inPrefix + slots, map[string]string{"X-Correlation-Id": "not-a-uuid"}, http.StatusBadRequest},
		{"error_bad_accept.json", "GET", "/Device?" + orgPrefix + "A20047&" + inPrefix + slots, map[string]string{"Accept": "text/xml", "X-Correlation-Id": corrID}, http.StatusNotAcceptable},
		{"error_post.json", "POST", "/Endpoint", withCorr, http.StatusMethodNotAllowed},
		{"error_unknown_path.json", "GET", "/Organization", withCorr, http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			r := do(t, srv, tt.method, tt.target, tt.header)
			assert.Equal(t, r.status, tt.status, "status")
			path := filepath.Join(fixtureDir, tt.file)
			if *update {
				assert.NilError(t, os.WriteFile(path, append(r.body, '\n'), 0o644))
				return
			}
			want, err := os.ReadFile(path)
			assert.NilError(t, err)
			assert.JSONEqual(t, withoutVolatile(t, r.body), withoutVolatile(t, want), "answer against "+path)
		})
	}
}

// withoutVolatile drops the top-level id of a Bundle or OperationOutcome.
func withoutVolatile(t *testing.T, body []byte) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("not a JSON object: %v\n%s", err, body)
	}
	delete(m, "id")
	out, err := json.Marshal(m)
	assert.NilError(t, err)
	return out
}
