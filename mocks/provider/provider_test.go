package provider_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/jwt"
)

// TestRouting: unknown ODS codes and paths outside a service root get a
// GPConnect-OperationOutcome-1, never a plain-text 404.
func TestRouting(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tests := []struct {
		name   string
		path   string
		status int
		code   gpc.Code
	}{
		{"unknown ODS", "!/Z99999/STU3/1/gpconnect/metadata", 404, gpc.OrganisationNotFound},
		{"wrong FHIR version", "!/A20047/R4/1/gpconnect/metadata", 404, gpc.NoRecordFound},
		{"structured root", "!/A20047/STU3/1/structured/metadata", 404, gpc.NoRecordFound},
		{"no root at all", "!/", 404, gpc.NoRecordFound},
		{"unknown resource below the root", "/Foo", 400, gpc.BadRequest},
		{"service root itself", "", 400, gpc.BadRequest},
		{"trailing slash", "/metadata/", 400, gpc.BadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			wantError(t, f.do(call{path: tt.path, interaction: gpc.ReadMetadata}), tt.status, tt.code)
		})
	}
}

// TestSSPHeaders: §1.4 — all four Ssp-* headers present, names compared
// case-insensitively, Ssp-To is this practice's ASID, and the interaction
// is known and matches verb and path.
func TestSSPHeaders(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tests := []struct {
		name   string
		c      call
		status int
		code   gpc.Code
	}{
		{"no Ssp-TraceID", call{path: "/metadata", interaction: gpc.ReadMetadata, header: map[string]string{"Ssp-TraceID": ""}}, 400, gpc.BadRequest},
		{"no Ssp-From", call{path: "/metadata", interaction: gpc.ReadMetadata, header: map[string]string{"Ssp-From": ""}}, 400, gpc.BadRequest},
		{"no Ssp-To", call{path: "/metadata", interaction: gpc.ReadMetadata, header: map[string]string{"Ssp-To": ""}}, 400, gpc.BadRequest},
		{"blank Ssp-InteractionID", call{path: "/metadata", interaction: gpc.ReadMetadata, header: map[string]string{"Ssp-InteractionID": "  "}}, 400, gpc.BadRequest},
		{"Ssp-To another practice's ASID", call{path: "/metadata", interaction: gpc.ReadMetadata, header: map[string]string{"Ssp-To": otherASID}}, 400, gpc.BadRequest},
		{"unknown interaction", call{path: "/metadata", interaction: "urn:nhs:names:services:gpconnect:fhir:rest:read:metadata-9"}, 400, gpc.BadRequest},
		{"structured interaction", call{path: "/metadata", interaction: "urn:nhs:names:services:gpconnect:structured:fhir:rest:read:metadata-1"}, 400, gpc.BadRequest},
		{"interaction for another path", call{path: "/metadata", interaction: gpc.SearchPatient}, 400, gpc.BadRequest},
		{"wrong verb", call{method: "POST", path: "/metadata", interaction: gpc.ReadMetadata, body: "{}"}, 400, gpc.BadRequest},
		{"DELETE an appointment", call{method: "DELETE", path: "/Appointment/20", interaction: gpc.CancelAppointment}, 400, gpc.BadRequest},
		{"read interaction on a search path", call{path: "/Patient", interaction: gpc.ReadPatient}, 400, gpc.BadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			wantError(t, f.do(tt.c), tt.status, tt.code)
		})
	}

	t.Run("header names in any case", func(t *testing.T) {
		t.Parallel()
		req, _ := http.NewRequest("GET", f.srv.URL+"/A20047/STU3/1/gpconnect/metadata", nil)
		// Assign the map keys directly so the wire spelling is not
		// canonicalised (§1.3 GOTCHA).
		req.Header["ssp-traceid"] = []string{"5f0f5c3e-6b1a-4c43-9d51-3f7c9a0b7e21"}
		req.Header["SSP-FROM"] = []string{consumerASID}
		req.Header["ssp-to"] = []string{practiceASID}
		req.Header["Ssp-InteractionId"] = []string{string(gpc.ReadMetadata)}
		req.Header.Set("Authorization", "Bearer "+token(t, gpc.ReadMetadata))
		res, err := f.srv.Client().Do(req)
		assert.NilError(t, err)
		res.Body.Close()
		assert.Equal(t, res.StatusCode, 200, "status")
	})
}

// jwtWith builds a token from the claims of a valid one, changed by edit.
func jwtWith(t *testing.T, in gpc.Interaction, edit func(c map[string]any)) string {
	t.Helper()
	parts := strings.Split(token(t, in), ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	assert.NilError(t, err)
	var claims map[string]any
	assert.NilError(t, json.Unmarshal(raw, &claims))
	edit(claims)
	b, err := json.Marshal(claims)
	assert.NilError(t, err)
	return parts[0] + "." + base64.RawURLEncoding.EncodeToString(b) + "."
}

// TestJWT: §2.4's cases with the statuses the conformance tests expect,
// through the provider (audience = service root, scope per interaction).
func TestJWT(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	iat := nowTime.Unix()
	set := func(k string, v any) func(map[string]any) { return func(c map[string]any) { c[k] = v } }
	del := func(k string) func(map[string]any) { return func(c map[string]any) { delete(c, k) } }
	tests := []struct {
		name   string
		in     gpc.Interaction
		edit   func(map[string]any)
		raw    string // whole Authorization header, instead of edit
		status int
		code   gpc.Code
	}{
		{"valid", gpc.ReadMetadata, func(map[string]any) {}, "", 200, ""},
		{"no Authorization", gpc.ReadMetadata, nil, "-", 400, gpc.BadRequest},
		{"not base64", gpc.ReadMetadata, nil, "Bearer eyJ!.e30.", 400, gpc.BadRequest},
		{"missing iss", gpc.ReadMetadata, del("iss"), "", 400, gpc.BadRequest},
		{"missing exp", gpc.ReadMetadata, del("exp"), "", 400, gpc.BadRequest},
		{"exp-iat 301", gpc.ReadMetadata, set("exp", iat+301), "", 400, gpc.BadRequest},
		{"exp-iat 299", gpc.ReadMetadata, set("exp", iat+299), "", 400, gpc.BadRequest},
		{"exp-iat -1", gpc.ReadMetadata, set("exp", iat-1), "", 400, gpc.BadRequest},
		{"missing iat", gpc.ReadMetadata, del("iat"), "", 400, gpc.BadRequest},
		{"iat 200s in the future accepted", gpc.ReadMetadata, func(c map[string]any) { c["iat"] = iat + 200; c["exp"] = iat + 500 }, "", 200, ""},
		{"expired", gpc.ReadMetadata, func(c map[string]any) { c["iat"] = iat - 600; c["exp"] = iat - 300 }, "", 400, gpc.BadRequest},
		{"missing reason_for_request", gpc.ReadMetadata, del("reason_for_request"), "", 400, gpc.BadRequest},
		{"missing aud", gpc.ReadMetadata, del("aud"), "", 400, gpc.BadRequest},
		{"aud another practice", gpc.ReadMetadata, set("aud", publicBase+"/provider/Y12345/STU3/1/gpconnect"), "", 400, gpc.BadRequest},
		{"missing requesting_device", gpc.ReadMetadata, del("requesting_device"), "", 400, gpc.BadRequest},
		{"requesting_device not a Device", gpc.ReadMetadata, set("requesting_device", map[string]any{"resourceType": "Patient"}), "", 422, gpc.InvalidResource},
		{"missing requesting_practitioner", gpc.ReadMetadata, del("requesting_practitioner"), "", 400, gpc.BadRequest},
		{"requesting_practitioner wrong type", gpc.ReadMetadata, func(c map[string]any) {
			c["requesting_practitioner"].(map[string]any)["resourceType"] = "Device"
		}, "", 422, gpc.InvalidResource},
		{"missing requested_scope", gpc.ReadMetadata, del("requested_scope"), "", 400, gpc.BadRequest},
		{"patient scope for metadata", gpc.ReadMetadata, set("requested_scope", "patient/*.read"), "", 400, gpc.BadRequest},
		{"read scope for register", gpc.RegisterPatient, set("requested_scope", "patient/*.read"), "", 400, gpc.BadRequest},
		{"sub not practitioner id", gpc.ReadMetadata, set("sub", "someone-else"), "", 400, gpc.BadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := call{path: "/metadata", interaction: tt.in}
			if tt.in == gpc.RegisterPatient {
				c = call{method: "POST", path: "/Patient/$gpc.registerpatient", interaction: tt.in, body: "{}"}
			}
			switch {
			case tt.raw == "-":
				c.header = map[string]string{"Authorization": ""}
			case tt.raw != "":
				c.header = map[string]string{"Authorization": tt.raw}
			default:
				c.header = map[string]string{"Authorization": "Bearer " + jwtWith(t, tt.in, tt.edit)}
			}
			r := f.do(c)
			if tt.status == 200 {
				assert.Equal(t, r.status, 200, "status")
				return
			}
			wantError(t, r, tt.status, tt.code)
		})
	}
	// Every JWT rule the jwt package names maps to the status the provider
	// answers with (the table above exercises them through HTTP).
	for _, r := range jwt.Rules {
		if r.Status != 400 && r.Status != 422 {
			t.Errorf("rule %s has status %d", r.Name, r.Status)
		}
	}
}

// TestContentNegotiation: §1.3 — JSON by default, XML when asked, _format
// overrides Accept, Accept's preferred type wins, without either the
// Content-Type decides, unknown formats 415 (in JSON), Content-Type rules on
// POST/PUT, and the response headers every answer carries.
func TestContentNegotiation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	book := call{method: "POST", path: "/Appointment", interaction: gpc.CreateAppointment, body: "{}"}
	with := func(c call, h map[string]string) call { c.header = h; return c }
	meta := call{path: "/metadata", interaction: gpc.ReadMetadata}
	metaQ := func(q string, h map[string]string) call {
		return call{path: "/metadata?" + q, interaction: gpc.ReadMetadata, header: h}
	}
	const jsonCT, xmlCT = "application/fhir+json;charset=utf-8", "application/fhir+xml;charset=utf-8"
	tests := []struct {
		name   string
		c      call
		status int
		code   gpc.Code
		ctype  string // of a 200
	}{
		{"Accept fhir+json", with(meta, map[string]string{"Accept": "application/fhir+json"}), 200, "", jsonCT},
		{"Accept with charset", with(meta, map[string]string{"Accept": "application/fhir+json;charset=utf-8"}), 200, "", jsonCT},
		{"Accept */*", with(meta, map[string]string{"Accept": "*/*"}), 200, "", jsonCT},
		{"no Accept", with(meta, map[string]string{"Accept": ""}), 200, "", jsonCT},
		{"Accept XML", with(meta, map[string]string{"Accept": "application/fhir+xml"}), 200, "", xmlCT},
		{"Accept application/xml", with(meta, map[string]string{"Accept": "application/xml"}), 200, "", xmlCT},
		{"Accept text/xml", with(meta, map[string]string{"Accept": "text/xml"}), 200, "", xmlCT},
		{"Accept application/json", with(meta, map[string]string{"Accept": "application/json"}), 200, "", jsonCT},
		{"Accept text/plain", with(meta, map[string]string{"Accept": "text/plain"}), 415, gpc.UnsupportedMediaType, ""},
		{"Accept XML then JSON: the first", with(meta, map[string]string{"Accept": "application/fhir+xml, application/fhir+json"}), 200, "", xmlCT},
		{"Accept q-values: the preferred", with(meta, map[string]string{"Accept": "application/fhir+xml;q=0.5, application/fhir+json"}), 200, "", jsonCT},
		{"Accept q=0 is not acceptable", with(meta, map[string]string{"Accept": "application/fhir+xml;q=0, text/html"}), 415, gpc.UnsupportedMediaType, ""},
		{"_format json overrides XML Accept", metaQ("_format=json", map[string]string{"Accept": "application/fhir+xml"}), 200, "", jsonCT},
		{"_format xml overrides JSON Accept", metaQ("_format=application/fhir%2Bxml", map[string]string{"Accept": "application/fhir+json"}), 200, "", xmlCT},
		{"_format xml", metaQ("_format=xml", nil), 200, "", xmlCT},
		{"_format spelt with an escape", metaQ("%5Fformat=xml", nil), 200, "", xmlCT},
		{"Accept XML in capitals", with(meta, map[string]string{"Accept": "Application/FHIR+XML"}), 200, "", xmlCT},
		{"Accept XML padded", with(meta, map[string]string{"Accept": "  application/fhir+xml "}), 200, "", xmlCT},
		{"_format text/xml", metaQ("_format=text/xml", nil), 200, "", xmlCT},
		{"_format application/xml", metaQ("_format=application/xml", nil), 200, "", xmlCT},
		{"_format application/json", metaQ("_format=application/json", map[string]string{"Accept": "application/fhir+xml"}), 200, "", jsonCT},
		{"_format unknown", metaQ("_format=html", nil), 415, gpc.UnsupportedMediaType, ""},
		{"_format unknown overrides a good Accept", metaQ("_format=html", map[string]string{"Accept": "application/fhir+xml"}), 415, gpc.UnsupportedMediaType, ""},
		{"no Accept, no _format: the Content-Type's", with(meta, map[string]string{"Accept": "", "Content-Type": "application/fhir+xml"}), 200, "", xmlCT},
		{"POST without Content-Type", with(book, map[string]string{"Content-Type": ""}), 415, gpc.BadRequest, ""},
		{"POST XML that is not XML", with(book, map[string]string{"Content-Type": "application/fhir+xml"}), 400, gpc.BadRequest, ""},
		{"POST text/plain", with(book, map[string]string{"Content-Type": "text/plain"}), 415, gpc.UnsupportedMediaType, ""},
		{"POST malformed JSON", call{method: "POST", path: "/Appointment", interaction: gpc.CreateAppointment, body: "{not json"}, 400, gpc.BadRequest, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := f.do(tt.c)
			if tt.status == 200 {
				assert.Equal(t, r.status, 200, "status")
				assert.Equal(t, r.header.Get("Content-Type"), tt.ctype, "Content-Type")
				assert.Equal(t, r.header.Get("Cache-Control"), "no-store", "Cache-Control")
				return
			}
			wantError(t, r, tt.status, tt.code)
			assert.Equal(t, r.header.Get("Cache-Control"), "no-store", "Cache-Control")
		})
	}

	t.Run("gzip on request", func(t *testing.T) {
		t.Parallel()
		r := f.do(call{path: "/metadata", interaction: gpc.ReadMetadata, header: map[string]string{"Accept-Encoding": "gzip"}})
		assert.Equal(t, r.status, 200, "status")
		assert.Equal(t, r.header.Get("Content-Encoding"), "gzip", "Content-Encoding")
		assert.Contains(t, string(r.body), `"resourceType":"CapabilityStatement"`, "body")
	})
	t.Run("identity without gzip", func(t *testing.T) {
		t.Parallel()
		r := f.do(call{path: "/metadata", interaction: gpc.ReadMetadata, header: map[string]string{"Accept-Encoding": "identity"}})
		assert.Equal(t, r.header.Get("Content-Encoding"), "", "Content-Encoding")
	})
}

// TestMetadata: §3.1's capability statement.
func TestMetadata(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var cs struct {
		ResourceType, Version, FHIRVersion, AcceptUnknown string
		Rest                                              []struct {
			Resource []struct {
				Type          string
				SearchInclude []string
			}
			Operation []struct{ Name string }
		}
	}
	wantOK(t, f.do(call{path: "/metadata", interaction: gpc.ReadMetadata}), 200, &cs)
	assert.Equal(t, cs.ResourceType, "CapabilityStatement", "resourceType")
	assert.Equal(t, cs.Version, "1.6.0", "version")
	assert.Equal(t, cs.FHIRVersion, "3.0.1", "fhirVersion")
	var types []string
	for _, r := range cs.Rest[0].Resource {
		types = append(types, r.Type)
	}
	assert.DeepEqual(t, types, []string{"Patient", "Organization", "Practitioner", "Location", "Appointment", "Slot"}, "resource types")
	assert.DeepEqual(t, cs.Rest[0].Resource[5].SearchInclude,
		[]string{"Schedule:actor:Location", "Schedule:actor:Practitioner", "Slot:schedule", "Location:managingOrganization"}, "Slot searchInclude")
	assert.Equal(t, cs.Rest[0].Operation[0].Name, "gpc.registerpatient", "operation")
}
