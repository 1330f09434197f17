package sds

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/world"
)

// TestInternalErrors: an untyped error or a panic in a route is a 500
// INTERNAL_SERVER_ERROR whose body does not leak the cause (§3.5).
func TestInternalErrors(t *testing.T) {
	t.Parallel()
	s := New(world.New(world.Data{}, "http://127.0.0.1:4000", nil)).(*server)
	s.routes["/error"] = func(http.ResponseWriter, *request) error { return errors.New("ldap: connection refused to 10.0.0.1") }
	s.routes["/panic"] = func(http.ResponseWriter, *request) error { panic("nil map") }
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	for _, path := range []string{"/error", "/panic"} {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest("GET", srv.URL+path, nil)
			assert.NilError(t, err)
			req.Header.Set("X-Correlation-Id", "0b9e1c3a-5f2d-4e7a-9c41-2d8f6a7b3e10")
			res, err := srv.Client().Do(req)
			assert.NilError(t, err)
			defer res.Body.Close()
			body, err := io.ReadAll(res.Body)
			assert.NilError(t, err)
			assert.Equal(t, res.StatusCode, http.StatusInternalServerError, "status")
			assert.Equal(t, res.Header.Get("Content-Type"), "application/fhir+json", "Content-Type")
			assert.Equal(t, res.Header.Get("X-Correlation-Id"), "0b9e1c3a-5f2d-4e7a-9c41-2d8f6a7b3e10", "X-Correlation-Id")
			var oo struct {
				ID    string `json:"id"`
				Issue []struct {
					Code, Diagnostics string
					Details           struct {
						Coding []struct{ Code, Display string }
					}
				}
			}
			assert.NilError(t, json.Unmarshal(body, &oo))
			assert.Equal(t, oo.ID, "0b9e1c3a-5f2d-4e7a-9c41-2d8f6a7b3e10", "id")
			assert.Equal(t, oo.Issue[0].Code, "exception", "issue code")
			assert.Equal(t, oo.Issue[0].Details.Coding[0].Code, "INTERNAL_SERVER_ERROR", "Spine code")
			assert.Equal(t, oo.Issue[0].Details.Coding[0].Display, "Unexpected internal server error", "display")
			assert.Equal(t, oo.Issue[0].Diagnostics, "Internal server error", "diagnostics")
		})
	}
}

// TestParseQuery pins the Python parse_qs behaviour the checks rely on.
func TestParseQuery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw       string
		wantNames []string
		want      map[string][]string
	}{
		{"", nil, map[string][]string{}},
		{"a=1&b=2&a=3", []string{"a", "b"}, map[string][]string{"a": {"1", "3"}, "b": {"2"}}},
		{"a&&b=", []string{"a", "b"}, map[string][]string{"a": {""}, "b": {""}}},
		{"x=a+b%7Cc", []string{"x"}, map[string][]string{"x": {"a b|c"}}},
	}
	for _, tt := range tests {
		q, err := parseQuery(tt.raw)
		assert.NilError(t, err)
		assert.DeepEqual(t, q.names, tt.wantNames, tt.raw+" names")
		assert.DeepEqual(t, q.values, tt.want, tt.raw+" values")
	}
}
