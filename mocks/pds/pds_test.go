package pds_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/world"
	"github.com/spine-sandbox/spine-sandbox/mocks/pds"
)

const (
	requestID = "60E0B220-8136-4CA5-AE46-1D97EF59D068"
	baseURL   = "http://127.0.0.1:4000"
)

// fixedNow pins the world's clock so bundle timestamps are known.
var fixedNow = time.Date(2026, 11, 24, 6, 45, 12, 742e6, time.UTC)

// sandboxPatients are the six patients of the sandbox's default world, with
// NHS's sandbox numbers (pds-sds-fhir.md §2.7), plus a few records only these
// tests need: a second Sm* match, a superseded and an invalidated record
// that look like Jane Smith, and a restricted patient registered at A20047.
func sandboxPatients() []world.Patient {
	return []world.Patient{
		{
			NHSNumber: "9693632109", Name: &world.Name{Given: []string{"Bill"}, Family: "GARTON"},
			BirthDate: "1946-06-23", Gender: "male", Practice: "A20047",
			Address: []world.Address{{Use: "home", Lines: []string{"7 Quarry Hill"}, City: "Leeds", PostalCode: "LS2 7UE"}},
		},
		{
			NHSNumber: "9733162043", Name: &world.Name{Given: []string{"Dean", "Roger"}, Family: "KILLEN"},
			BirthDate: "1955-05-27", Gender: "male", Practice: "A20047",
		},
		{
			NHSNumber: "9736363015", Name: &world.Name{Given: []string{"Conrad", "Landon"}, Family: "MOONEY"},
			BirthDate: "1937-04-08", Gender: "male", Practice: "A20047",
		},
		{
			NHSNumber: "9000000009", Name: &world.Name{Prefix: []string{"Mrs"}, Given: []string{"Jane"}, Family: "Smith"},
			BirthDate: "2010-10-22", Gender: "female", Practice: "Y12345", Deceased: "2010-10-22", VersionID: 2,
			Address: []world.Address{
				{Use: "home", Lines: []string{"12 Wellington Place", "Whitehall Road"}, City: "Leeds", District: "West Yorkshire", PostalCode: "LS1 4AP"},
				{Use: "temp", Lines: []string{"Flat 3", "9 Park Row"}, City: "Leeds", PostalCode: "LS1 5HD"},
			},
			Telecom: []world.Telecom{
				{System: "phone", Value: "01632 960 123", Use: "home"},
				{System: "email", Value: "jane.smith@example.org", Use: "home"},
			},
		},
		{
			NHSNumber: "9000000025", Name: &world.Name{Prefix: []string{"Mrs"}, Given: []string{"Janet"}, Family: "Smythe"},
			BirthDate: "2005-06-16", Gender: "female", Restricted: true, VersionID: 2,
			Address: []world.Address{{Use: "home", Lines: []string{"1 Secret Lane"}, City: "York", PostalCode: "YO1 7HH"}},
			Telecom: []world.Telecom{{System: "phone", Value: "01632 960 999", Use: "mobile"}},
		},
		{NHSNumber: "9000000033", VersionID: 2},
		{
			NHSNumber: "9000000017", Name: &world.Name{Given: []string{"Jayne"}, Family: "Smyth"},
			BirthDate: "2010-10-22", Gender: "female", Practice: "Y12345",
			Address: []world.Address{{Use: "home", Lines: []string{"3 Boar Lane"}, City: "Leeds", PostalCode: "LS1 6EN"}},
		},
		{
			NHSNumber: "9000000041", Name: &world.Name{Given: []string{"Jane"}, Family: "Smith"},
			BirthDate: "2010-10-22", Gender: "female", Practice: "Y12345", SupersededBy: "9000000009",
		},
		{NHSNumber: "9000000084", SupersededBy: "9000000041"},
		{
			NHSNumber: "9000000068", Name: &world.Name{Given: []string{"Jane"}, Family: "Smith"},
			BirthDate: "2010-10-22", Gender: "female", Practice: "Y12345", Invalidated: true,
		},
		{
			NHSNumber: "9000000076", Name: &world.Name{Given: []string{"Alice"}, Family: "Brown"},
			BirthDate: "1980-01-01", Gender: "female", Practice: "A20047", Restricted: true,
			Address: []world.Address{{Use: "home", Lines: []string{"2 Hidden Row"}, City: "Leeds", PostalCode: "LS2 7UE"}},
		},
	}
}

// newServer starts the PDS mock over a fresh world on 127.0.0.1.
func newServer(t testing.TB) *httptest.Server {
	t.Helper()
	w := world.New(world.Data{Patients: sandboxPatients()}, baseURL, func() time.Time { return fixedNow })
	srv := httptest.NewServer(pds.New(w))
	t.Cleanup(srv.Close)
	return srv
}

// response is what a test needs from an answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

// code returns the Spine code of an OperationOutcome body, "" otherwise.
func (r response) code() string {
	c, _ := gpc.SpineCode(r.body)
	return c
}

// send makes one request. headers nil means just a valid X-Request-ID; a
// header mapped to "-" is left out.
func send(t testing.TB, srv *httptest.Server, method, target string, headers map[string]string) response {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+target, nil)
	assert.NilError(t, err)
	req.Header.Set("X-Request-ID", requestID)
	for k, v := range headers {
		if v == "-" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	res, err := srv.Client().Do(req)
	assert.NilError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	assert.NilError(t, err)
	return response{res.StatusCode, res.Header, body}
}

// patientJSON is the part of a Patient the tests look into.
type patientJSON struct {
	ResourceType string `json:"resourceType"`
	ID           string `json:"id"`
	Identifier   []struct {
		System    string `json:"system"`
		Value     string `json:"value"`
		Extension []struct {
			URL                  string `json:"url"`
			ValueCodeableConcept struct {
				Coding []struct{ Code string } `json:"coding"`
			} `json:"valueCodeableConcept"`
		} `json:"extension"`
	} `json:"identifier"`
	Meta struct {
		VersionID string `json:"versionId"`
		Security  []struct{ Code string }
	} `json:"meta"`
	Name                []json.RawMessage `json:"name"`
	DeceasedDateTime    string            `json:"deceasedDateTime"`
	Extension           []struct{ URL string }
	Address             []json.RawMessage `json:"address"`
	Telecom             []json.RawMessage `json:"telecom"`
	Contact             []json.RawMessage `json:"contact"`
	GeneralPractitioner []struct {
		Type       string `json:"type"`
		Identifier struct{ System, Value string }
	} `json:"generalPractitioner"`
}

func decodePatient(t *testing.T, body []byte) patientJSON {
	t.Helper()
	var p patientJSON
	assert.NilError(t, json.Unmarshal(body, &p))
	return p
}

func TestRetrieve(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	tests := []struct {
		name     string
		id       string
		status   int
		code     string // Spine code of the OperationOutcome, "" for a Patient
		wantID   string
		wantETag string
	}{
		{"full record", "9000000009", 200, "", "9000000009", `W/"2"`},
		{"restricted record", "9000000025", 200, "", "9000000025", `W/"2"`},
		{"minimal record", "9000000033", 200, "", "9000000033", `W/"2"`},
		{"default version is 1", "9693632109", 200, "", "9693632109", `W/"1"`},
		{"superseded gives retained record", "9000000041", 200, "", "9000000009", `W/"2"`},
		{"superseded twice follows the chain", "9000000084", 200, "", "9000000009", `W/"2"`},
		{"valid number without record", "9111231130", 404, "RESOURCE_NOT_FOUND", "", ""},
		{"invalidated record", "9000000068", 404, "INVALIDATED_RESOURCE", "", ""},
		{"fails modulus 11", "9000000000", 400, "INVALID_RESOURCE_ID", "", ""},
		{"check digit would be 10", "9000000051", 400, "INVALID_RESOURCE_ID", "", ""},
		{"nine digits", "900000009", 400, "INVALID_RESOURCE_ID", "", ""},
		{"eleven digits", "90000000090", 400, "INVALID_RESOURCE_ID", "", ""},
		{"letters", "abcdefghij", 400, "INVALID_RESOURCE_ID", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := send(t, srv, http.MethodGet, "/Patient/"+tt.id, map[string]string{"X-Correlation-ID": "corr-1"})
			assert.Equal(t, res.status, tt.status, "status")
			assert.Equal(t, res.code(), tt.code, "Spine code")
			assert.Equal(t, res.header.Get("Content-Type"), "application/fhir+json", "Content-Type")
			assert.Equal(t, res.header.Get("X-Request-ID"), requestID, "X-Request-ID")
			assert.Equal(t, res.header.Get("X-Correlation-ID"), "corr-1", "X-Correlation-ID")
			assert.Equal(t, res.header.Get("ETag"), tt.wantETag, "ETag")
			if tt.code == "" {
				p := decodePatient(t, res.body)
				assert.Equal(t, p.ResourceType, "Patient", "resourceType")
				assert.Equal(t, p.ID, tt.wantID, "id")
			}
		})
	}
}

func TestRetrieveContent(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	tests := []struct {
		name         string
		id           string
		security     string
		gp           string // registered practice ODS code, "" when none
		names        int
		withheld     bool // no address, telecom or contact
		addresses    int
		deceased     string
		deathNotices int
	}{
		{"unrestricted at Y12345, deceased", "9000000009", "U", "Y12345", 1, false, 2, "2010-10-22T00:00:00+00:00", 1},
		{"restricted withholds address telecom and GP", "9000000025", "R", "", 1, true, 0, "", 0},
		{"minimal record has no name", "9000000033", "U", "", 0, true, 0, "", 0},
		{"alive at A20047", "9693632109", "U", "A20047", 1, false, 1, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := send(t, srv, http.MethodGet, "/Patient/"+tt.id, nil)
			assert.Equal(t, res.status, 200, "status")
			p := decodePatient(t, res.body)
			assert.Equal(t, len(p.Meta.Security), 1, "security labels")
			if len(p.Meta.Security) == 1 {
				assert.Equal(t, p.Meta.Security[0].Code, tt.security, "meta.security code")
			}
			assert.Equal(t, len(p.Identifier), 1, "identifiers")
			if len(p.Identifier) == 1 {
				id := p.Identifier[0]
				assert.Equal(t, id.System, "https://fhir.nhs.uk/Id/nhs-number", "identifier system")
				assert.Equal(t, id.Value, tt.id, "identifier value")
				assert.Equal(t, len(id.Extension), 1, "identifier extensions")
				if len(id.Extension) == 1 && len(id.Extension[0].ValueCodeableConcept.Coding) == 1 {
					assert.Equal(t, id.Extension[0].URL, "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus", "verification extension")
					assert.Equal(t, id.Extension[0].ValueCodeableConcept.Coding[0].Code, "01", "verification status")
				} else {
					t.Errorf("verification status extension missing: %s", res.body)
				}
			}
			gp := ""
			for _, g := range p.GeneralPractitioner {
				assert.Equal(t, g.Type, "Organization", "generalPractitioner type")
				assert.Equal(t, g.Identifier.System, "https://fhir.nhs.uk/Id/ods-organization-code", "generalPractitioner system")
				gp = g.Identifier.Value
			}
			assert.Equal(t, gp, tt.gp, "registered practice")
			assert.Equal(t, len(p.Name), tt.names, "names")
			assert.Equal(t, len(p.Address), tt.addresses, "addresses")
			if tt.withheld {
				assert.Equal(t, len(p.Telecom), 0, "telecoms")
			}
			assert.Equal(t, len(p.Contact), 0, "contacts")
			assert.Equal(t, p.DeceasedDateTime, tt.deceased, "deceasedDateTime")
			notices := 0
			for _, e := range p.Extension {
				if e.URL == "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-DeathNotificationStatus" {
					notices++
				}
			}
			assert.Equal(t, notices, tt.deathNotices, "death notification extensions")
		})
	}
}

func TestHeaders(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	tests := []struct {
		name        string
		headers     map[string]string
		status      int
		code        string
		diagnostics string
		mirrored    string // X-Request-ID on the response
	}{
		{"missing X-Request-ID", map[string]string{"X-Request-ID": "-"}, 400, "MISSING_VALUE",
			"Invalid request with error - X-Request-ID header must be supplied to access this resource", ""},
		{"X-Request-ID not a UUID", map[string]string{"X-Request-ID": "abc"}, 400, "INVALID_VALUE",
			"Invalid value - 'abc' in header 'X-Request-ID'", "abc"},
		// NHS's sandbox reads an empty X-Request-ID as a missing one.
		{"empty X-Request-ID", map[string]string{"X-Request-ID": ""}, 400, "MISSING_VALUE",
			"Invalid request with error - X-Request-ID header must be supplied to access this resource", ""},
		{"X-Request-ID with a bad character", map[string]string{"X-Request-ID": "60E0B220-8136-4CA5-AE46-1D97EF59D06G"}, 400, "INVALID_VALUE",
			"Invalid value - '60E0B220-8136-4CA5-AE46-1D97EF59D06G' in header 'X-Request-ID'", "60E0B220-8136-4CA5-AE46-1D97EF59D06G"},
		{"lower-case UUID", map[string]string{"X-Request-ID": "0f8fad5b-d9cb-469f-a165-70867728950e"}, 200, "", "", "0f8fad5b-d9cb-469f-a165-70867728950e"},
		{"no Authorization is fine in the sandbox", nil, 200, "", "", requestID},
		{"bearer token", map[string]string{"Authorization": "Bearer abc123XYZ"}, 200, "", "", requestID},
		{"Authorization without Bearer", map[string]string{"Authorization": "Basic abc"}, 401, "ACCESS_DENIED", "Missing access token", requestID},
		{"Bearer without token", map[string]string{"Authorization": "Bearer "}, 401, "ACCESS_DENIED", "Missing access token", requestID},
		{"token not alphanumeric", map[string]string{"Authorization": "Bearer abc-123"}, 401, "ACCESS_DENIED", "Invalid Access Token", requestID},
		// NHS's sandbox wants a letter and a digit in a token, and allows one
		// "_suffix"; the header is exactly two words.
		{"letters-only token", map[string]string{"Authorization": "Bearer abcdef"}, 401, "ACCESS_DENIED", "Invalid Access Token", requestID},
		{"digits-only token", map[string]string{"Authorization": "Bearer 123456"}, 401, "ACCESS_DENIED", "Invalid Access Token", requestID},
		{"token with a suffix", map[string]string{"Authorization": "Bearer abc123_Xyz"}, 200, "", "", requestID},
		{"token with two suffixes", map[string]string{"Authorization": "Bearer abc123_x_y"}, 401, "ACCESS_DENIED", "Invalid Access Token", requestID},
		{"token with an empty suffix", map[string]string{"Authorization": "Bearer abc123_"}, 401, "ACCESS_DENIED", "Invalid Access Token", requestID},
		{"two spaces before the token", map[string]string{"Authorization": "Bearer  abc123"}, 401, "ACCESS_DENIED", "Missing access token", requestID},
		{"lower-case bearer", map[string]string{"Authorization": "bearer abc123"}, 401, "ACCESS_DENIED", "Missing access token", requestID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := send(t, srv, http.MethodGet, "/Patient/9000000009", tt.headers)
			assert.Equal(t, res.status, tt.status, "status")
			code, diagnostics := gpc.SpineCode(res.body)
			assert.Equal(t, code, tt.code, "Spine code")
			assert.Equal(t, diagnostics, tt.diagnostics, "diagnostics")
			assert.Equal(t, res.header.Get("X-Request-ID"), tt.mirrored, "X-Request-ID")
			assert.Equal(t, res.header.Get("Content-Type"), "application/fhir+json", "Content-Type")
		})
	}
}

func TestCorrelationIDMirroredOnSearchAndErrors(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	for _, target := range []string{"/Patient?family=Smith&birthdate=2010-10-22", "/Patient?bogus=1", "/Nothing", "/Patient/9111231130"} {
		res := send(t, srv, http.MethodGet, target, map[string]string{"X-Correlation-ID": "any string at all"})
		assert.Equal(t, res.header.Get("X-Correlation-ID"), "any string at all", target+" X-Correlation-ID")
		assert.Equal(t, res.header.Get("X-Request-ID"), requestID, target+" X-Request-ID")
	}
	res := send(t, srv, http.MethodGet, "/Patient/9000000009", nil)
	assert.Equal(t, res.header.Get("X-Correlation-ID"), "", "X-Correlation-ID when none was sent")
}

func TestOtherRoutes(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	tests := []struct {
		name   string
		method string
		target string
		status int
		code   string
	}{
		{"PATCH is not served", http.MethodPatch, "/Patient/9000000009", 400, "UNSUPPORTED_SERVICE"},
		{"DELETE is not served", http.MethodDelete, "/Patient/9000000009", 400, "UNSUPPORTED_SERVICE"},
		{"POST /Patient is not served", http.MethodPost, "/Patient", 400, "UNSUPPORTED_SERVICE"},
		{"RelatedPerson is not served", http.MethodGet, "/Patient/9000000009/RelatedPerson", 400, "UNSUPPORTED_SERVICE"},
		{"Coverage is not served", http.MethodGet, "/Coverage", 400, "UNSUPPORTED_SERVICE"},
		{"retrieve without NHS number", http.MethodGet, "/Patient/", 400, "UNSUPPORTED_SERVICE"},
		{"unknown resource", http.MethodGet, "/Practitioner/1", 404, "RESOURCE_NOT_FOUND"},
		{"root", http.MethodGet, "/", 404, "RESOURCE_NOT_FOUND"},
		{"metadata", http.MethodGet, "/metadata", 404, "RESOURCE_NOT_FOUND"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := send(t, srv, tt.method, tt.target, nil)
			assert.Equal(t, res.status, tt.status, "status")
			assert.Equal(t, res.code(), tt.code, "Spine code")
			assert.Equal(t, res.header.Get("Content-Type"), "application/fhir+json", "Content-Type")
			assert.Equal(t, res.header.Get("X-Request-ID"), requestID, "X-Request-ID")
			var body struct{ ResourceType string }
			assert.NilError(t, json.Unmarshal(res.body, &body))
			assert.Equal(t, body.ResourceType, "OperationOutcome", "resourceType")
		})
	}
}

func BenchmarkRetrieve(b *testing.B) {
	w := world.New(world.Data{Patients: sandboxPatients()}, baseURL, func() time.Time { return fixedNow })
	h := pds.New(w)
	req := httptest.NewRequest(http.MethodGet, "/Patient/9000000009", nil)
	req.Header.Set("X-Request-ID", requestID)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status = %d", rec.Code)
		}
	}
}

// TestRetrieveShared: the worlds of one template share their encoded
// retrieve answers (a rule changes no patient), and every answer, asked
// twice through two worlds, is byte for byte the one a fresh world gives
// for that request alone — records built from fields, NHS's own record
// (with a character JSON escapes), restricted, superseded and invalidated
// ones, and an unknown number.
func TestRetrieveShared(t *testing.T) {
	t.Parallel()
	patients := append(sandboxPatients(), world.Patient{
		NHSNumber: "9449306680", VersionID: 3,
		Resource: json.RawMessage(`{"resourceType":"Patient","id":"x","multipleBirthInteger":1,"name":[{"use":"usual","family":"<Brown & Co>"}]}`),
	})
	data := world.Data{Patients: patients}
	clock := func() time.Time { return fixedNow }
	tmpl := world.Build(data)
	shared := []http.Handler{pds.New(tmpl.World(baseURL, clock)), pds.New(tmpl.World("http://127.0.0.1:5000", clock))}
	retrieve := func(h http.Handler, nhs string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/Patient/"+nhs, nil)
		req.Header.Set("X-Request-ID", requestID)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	for _, nhs := range append(nhsNumbers(patients), "9000000092") {
		fresh := retrieve(pds.New(world.New(data, baseURL, clock)), nhs)
		for round := range 2 {
			for i, h := range shared {
				got := retrieve(h, nhs)
				at := fmt.Sprintf("%s, world %d, round %d", nhs, i, round)
				assert.Equal(t, got.Code, fresh.Code, at+": status")
				assert.Equal(t, got.Header().Get("ETag"), fresh.Header().Get("ETag"), at+": ETag")
				assert.Equal(t, got.Body.String(), fresh.Body.String(), at+": body")
			}
		}
	}
}

func nhsNumbers(ps []world.Patient) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.NHSNumber
	}
	return out
}
