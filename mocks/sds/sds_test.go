package sds_test

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/world"
	"github.com/spine-sandbox/spine-sandbox/mocks/sds"
)

// The world's public base and the SDS base under it.
const (
	publicBase = "http://127.0.0.1:4000"
	sdsBase    = publicBase + sds.BasePath
)

// Query fragments.
const (
	orgPrefix = "organization=" + gpc.SystemODSCode + "|"
	inPrefix  = "identifier=" + gpc.SystemInteractionID + "|"
	pkPrefix  = "identifier=" + gpc.SystemPartyKey + "|"
	mfPrefix  = "manufacturing-organization=" + gpc.SystemODSCode + "|"
)

// World facts used below.
const (
	consumerASID   = "200000000115"
	consumerODS    = "A1001"
	consumerPK     = "A1001-815001"
	supplierODS    = "YGM24"
	a20047ASID     = "918999198993"
	a20047PK       = "A20047-822114"
	y12345ASID     = "200000000116"
	y12345PK       = "Y12345-811016"
	y12345Root     = "https://gp.example.nhs.uk/Y12345/STU3/1/gpconnect"
	a20047Root     = publicBase + "/provider/A20047/STU3/1/gpconnect"
	corrID         = "0b9e1c3a-5f2d-4e7a-9c41-2d8f6a7b3e10"
	slots          = string(gpc.SearchSlots)
	badSystemOrg   = "Missing or invalid 'organization' query parameter. Should be 'organization=https://fhir.nhs.uk/Id/ods-organization-code|value'"
	badIdentifier  = "Missing or invalid 'identifier' query parameter. Should be one or both of: ['identifier=https://fhir.nhs.uk/Id/nhsServiceInteractionId|value', 'identifier=https://fhir.nhs.uk/Id/nhsMhsPartyKey|value'"
	noInteraction  = "Missing or invalid 'identifier' query parameter. Should be 'identifier=https://fhir.nhs.uk/Id/nhsServiceInteractionId|value'"
	badManufOrg    = "Missing or invalid 'manufacturing-organization' query parameter. Should be 'manufacturing-organization=https://fhir.nhs.uk/Id/ods-organization-code|value'"
	badCombination = "Missing or invalid query parameters. Should one of following combinations: ['organization=https://fhir.nhs.uk/Id/ods-organization-code|value&identifier=https://fhir.nhs.uk/Id/nhsServiceInteractionId|value&identifier=https://fhir.nhs.uk/Id/nhsMhsPartyKey|value''organization=https://fhir.nhs.uk/Id/ods-organization-code|value&identifier=https://fhir.nhs.uk/Id/nhsServiceInteractionId|value''organization=https://fhir.nhs.uk/Id/ods-organization-code|value&identifier=https://fhir.nhs.uk/Id/nhsMhsPartyKey|value''identifier=https://fhir.nhs.uk/Id/nhsServiceInteractionId|value&identifier=https://fhir.nhs.uk/Id/nhsMhsPartyKey|value']"
	badCorrelation = "Invalid X-Correlation-ID header. Should be an UUIDv4 matching regex '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'"
)

var upperUUID = regexp.MustCompile(`^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$`)

func allInteractions() []gpc.Interaction {
	var out []gpc.Interaction
	for _, in := range gpc.Interactions {
		out = append(out, in.ID)
	}
	return out
}

// testData is the built-in world's SDS facts: two practices registered for
// every interaction (one on the sandbox's own provider, one with an
// external service root) and the consumer with its own supplier.
func testData() world.Data {
	return world.Data{
		Consumer: world.ConsumerSystem{
			ASID: consumerASID, ODS: consumerODS, Name: "Test Consumer Hub", PartyKey: consumerPK,
			Manufacturer: supplierODS, Interactions: allInteractions(),
		},
		Practices: []world.Practice{
			{ODS: "A20047", Name: "Riverside Surgery", ProviderASID: a20047ASID, PartyKey: a20047PK, Interactions: allInteractions()},
			{ODS: "Y12345", Name: "Hill Top Practice", ProviderASID: y12345ASID, PartyKey: y12345PK, Endpoint: y12345Root, Interactions: allInteractions()},
		},
	}
}

func newServer(t testing.TB, data world.Data) *httptest.Server {
	t.Helper()
	clock := func() time.Time { return time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) }
	srv := httptest.NewServer(sds.New(world.New(data, publicBase, clock)))
	t.Cleanup(srv.Close)
	return srv
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends one request; target is the path and raw query below the SDS base.
func do(t testing.TB, srv *httptest.Server, method, target string, header map[string]string) response {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+target, nil)
	assert.NilError(t, err)
	req.Header.Set("apikey", "any-key")
	for k, v := range header {
		if v == "" {
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

// Minimal views of the JSON answers.
type (
	identifier struct{ System, Value string }
	reference  struct {
		Identifier identifier `json:"identifier"`
	}
	extension struct {
		URL            string     `json:"url"`
		ValueReference *reference `json:"valueReference"`
	}
	resource struct {
		ResourceType         string       `json:"resourceType"`
		ID                   string       `json:"id"`
		Address              string       `json:"address"`
		Identifier           []identifier `json:"identifier"`
		Extension            []extension  `json:"extension"`
		Owner                *reference   `json:"owner"`
		ManagingOrganization *reference   `json:"managingOrganization"`
	}
	bundle struct {
		ResourceType string `json:"resourceType"`
		ID           string `json:"id"`
		Type         string `json:"type"`
		Total        *int   `json:"total"`
		Link         []struct{ Relation, URL string }
		Entry        []struct {
			FullURL  string   `json:"fullUrl"`
			Resource resource `json:"resource"`
			Search   struct{ Mode string }
		} `json:"entry"`
	}
)

func decodeBundle(t testing.TB, r response) bundle {
	t.Helper()
	var b bundle
	if err := json.Unmarshal(r.body, &b); err != nil {
		t.Fatalf("body is not a Bundle: %v\n%s", err, r.body)
	}
	assert.Equal(t, b.ResourceType, "Bundle", "resourceType")
	assert.Equal(t, b.Type, "searchset", "type")
	if b.Total == nil || *b.Total != len(b.Entry) {
		t.Errorf("total = %v, want %d (the number of entries)", b.Total, len(b.Entry))
	}
	return b
}

func (r resource) identifierValue(system string) string {
	for _, id := range r.Identifier {
		if id.System == system {
			return id.Value
		}
	}
	return ""
}

func (r resource) extensionValues(url string) []string {
	var out []string
	for _, e := range r.Extension {
		if e.URL == url && e.ValueReference != nil {
			out = append(out, e.ValueReference.Identifier.Value)
		}
	}
	return out
}

// assertOutcome checks an error answer: status, headers, and the
// OperationOutcome's id, issue code, Spine code, display and diagnostics.
func assertOutcome(t *testing.T, r response, status int, issue, code, display, diagnostics string) {
	t.Helper()
	assert.Equal(t, r.status, status, "status")
	assert.Equal(t, r.header.Get("Content-Type"), "application/fhir+json", "Content-Type")
	assert.Equal(t, r.header.Get("Etag"), "", "Etag on an error")
	var oo struct {
		ResourceType string `json:"resourceType"`
		ID           string `json:"id"`
		Issue        []struct {
			Severity, Code, Diagnostics string
			Details                     struct {
				Coding []struct{ System, Code, Display string }
			}
		} `json:"issue"`
	}
	if err := json.Unmarshal(r.body, &oo); err != nil || len(oo.Issue) != 1 || len(oo.Issue[0].Details.Coding) != 1 {
		t.Fatalf("body is not a one-issue OperationOutcome (%v):\n%s", err, r.body)
	}
	assert.Equal(t, oo.ResourceType, "OperationOutcome", "resourceType")
	assert.Equal(t, oo.ID, r.header.Get("X-Correlation-Id"), "OperationOutcome.id vs X-Correlation-Id")
	is := oo.Issue[0]
	assert.Equal(t, is.Severity, "error", "severity")
	assert.Equal(t, is.Code, issue, "issue code")
	assert.Equal(t, is.Details.Coding[0].System, "https://fhir.nhs.uk/STU3/ValueSet/Spine-ErrorOrWarningCode-1", "coding system")
	assert.Equal(t, is.Details.Coding[0].Code, code, "Spine code")
	assert.Equal(t, is.Details.Coding[0].Display, display, "display")
	assert.Equal(t, is.Diagnostics, diagnostics, "diagnostics")
	code2, _ := gpc.SpineCode(r.body)
	assert.Equal(t, code2, code, "gpc.SpineCode")
}

func assertBadRequest(t *testing.T, r response, reason string) {
	t.Helper()
	assertOutcome(t, r, http.StatusBadRequest, "required", "BAD_REQUEST", "Bad request", "HTTP 400: Bad Request ("+reason+")")
}

func TestEndpointSearch(t *testing.T) {
	t.Parallel()
	srv := newServer(t, testData())
	tests := []struct {
		name      string
		query     string
		wantODS   []string // managingOrganization of each entry, in order
		wantTotal int
		wantRoot  string // address of every entry
		wantPK    string // party key of every entry
	}{
		{"org and interaction", orgPrefix + "A20047&" + inPrefix + slots, []string{"A20047"}, 1, a20047Root, a20047PK},
		{"org and interaction at an external service root", orgPrefix + "Y12345&" + inPrefix + slots, []string{"Y12345"}, 1, y12345Root, y12345PK},
		{"org, interaction and party key", orgPrefix + "A20047&" + inPrefix + slots + "&" + pkPrefix + a20047PK, []string{"A20047"}, 1, a20047Root, a20047PK},
		{"interaction and party key", inPrefix + slots + "&" + pkPrefix + y12345PK, []string{"Y12345"}, 1, y12345Root, y12345PK},
		{"org and party key gives one record per interaction", orgPrefix + "A20047&" + pkPrefix + a20047PK, nil, len(gpc.Interactions), a20047Root, a20047PK},
		{"party key order does not matter", pkPrefix + a20047PK + "&" + inPrefix + slots, []string{"A20047"}, 1, a20047Root, a20047PK},
		{"percent-encoded bar", "organization=" + gpc.SystemODSCode + "%7CA20047&identifier=" + gpc.SystemInteractionID + "%7C" + slots, []string{"A20047"}, 1, a20047Root, a20047PK},
		{"ODS code matched case-insensitively as LDAP does", orgPrefix + "a20047&" + inPrefix + slots, []string{"A20047"}, 1, a20047Root, a20047PK},
		{"repeated interaction identifier: the last wins", orgPrefix + "A20047&" + inPrefix + "urn:nope&" + inPrefix + slots, []string{"A20047"}, 1, a20047Root, a20047PK},
		{"repeated interaction identifier: an unregistered last one wins", orgPrefix + "A20047&" + inPrefix + slots + "&" + inPrefix + "urn:nope", nil, 0, "", ""},
		{"repeated organization: the last wins", orgPrefix + "Y12345&" + orgPrefix + "A20047&" + inPrefix + slots, []string{"A20047"}, 1, a20047Root, a20047PK},
		{"unknown practice", orgPrefix + "B99999&" + inPrefix + slots, nil, 0, "", ""},
		{"interaction not registered", orgPrefix + "A20047&" + inPrefix + "urn:nhs:names:services:gpconnect:fhir:operation:gpc.getstructuredrecord-1", nil, 0, "", ""},
		{"party key of another practice", orgPrefix + "A20047&" + inPrefix + slots + "&" + pkPrefix + y12345PK, nil, 0, "", ""},
		{"the consumer has no MHS record", orgPrefix + consumerODS + "&" + inPrefix + slots, nil, 0, "", ""},
		{"the consumer's party key has no MHS record", inPrefix + slots + "&" + pkPrefix + consumerPK, nil, 0, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := do(t, srv, "GET", "/Endpoint?"+tt.query, map[string]string{"X-Correlation-Id": corrID})
			assert.Equal(t, r.status, http.StatusOK, "status")
			assert.Equal(t, r.header.Get("Content-Type"), "application/fhir+json", "Content-Type")
			assert.Equal(t, r.header.Get("X-Correlation-Id"), corrID, "X-Correlation-Id")
			b := decodeBundle(t, r)
			assert.Equal(t, len(b.Entry), tt.wantTotal, "entries")
			assert.Equal(t, *b.Total, tt.wantTotal, "total")
			if tt.wantTotal == 0 {
				assert.Contains(t, string(r.body), `"entry": []`, "empty searchset body")
			}
			seen := map[string]bool{}
			for i, e := range b.Entry {
				res := e.Resource
				assert.Equal(t, res.ResourceType, "Endpoint", "resourceType")
				assert.Equal(t, res.Address, tt.wantRoot, "address")
				assert.Equal(t, res.identifierValue(gpc.SystemPartyKey), tt.wantPK, "party key")
				assert.Equal(t, e.FullURL, sdsBase+"/Endpoint/"+res.ID, "fullUrl")
				assert.Equal(t, e.Search.Mode, "match", "search.mode")
				if tt.wantODS != nil {
					assert.Equal(t, res.ManagingOrganization.Identifier.Value, tt.wantODS[i], "managingOrganization")
				}
				ins := res.extensionValues("https://fhir.nhs.uk/StructureDefinition/Extension-SDS-NhsServiceInteractionId")
				if len(ins) != 1 {
					t.Fatalf("interaction extensions = %v, want exactly one", ins)
				}
				if seen[ins[0]] || seen[res.ID] {
					t.Errorf("entry %d repeats interaction %s or id %s", i, ins[0], res.ID)
				}
				seen[ins[0]], seen[res.ID] = true, true
				if tt.wantTotal == 1 {
					assert.Equal(t, ins[0], slots, "interaction")
				}
			}
		})
	}
}

func TestDeviceSearch(t *testing.T) {
	t.Parallel()
	srv := newServer(t, testData())
	tests := []struct {
		name      string
		query     string
		wantASID  string // "" for no match
		wantOwner string
		wantManuf string
		wantPK    string
	}{
		{"org and interaction", orgPrefix + "A20047&" + inPrefix + slots, a20047ASID, "A20047", "A20047", a20047PK},
		{"org, interaction and party key (the spec's MHS-then-AS order)", orgPrefix + "Y12345&" + inPrefix + slots + "&" + pkPrefix + y12345PK, y12345ASID, "Y12345", "Y12345", y12345PK},
		{"wrong party key", orgPrefix + "Y12345&" + inPrefix + slots + "&" + pkPrefix + a20047PK, "", "", "", ""},
		{"the consumer's own ASID via manufacturing-organization", orgPrefix + consumerODS + "&" + inPrefix + slots + "&" + mfPrefix + supplierODS, consumerASID, consumerODS, supplierODS, consumerPK},
		{"the consumer without manufacturing-organization", orgPrefix + consumerODS + "&" + inPrefix + slots, consumerASID, consumerODS, supplierODS, consumerPK},
		{"the consumer with another supplier", orgPrefix + consumerODS + "&" + inPrefix + slots + "&" + mfPrefix + "X26", "", "", "", ""},
		{"a practice is its own manufacturing organisation", orgPrefix + "A20047&" + inPrefix + slots + "&" + mfPrefix + "A20047", a20047ASID, "A20047", "A20047", a20047PK},
		{"manufacturing-organization before identifier", mfPrefix + supplierODS + "&" + inPrefix + slots + "&" + orgPrefix + consumerODS, consumerASID, consumerODS, supplierODS, consumerPK},
		{"repeated interaction identifier: the last wins", orgPrefix + "A20047&" + inPrefix + "urn:nope&" + inPrefix + slots, a20047ASID, "A20047", "A20047", a20047PK},
		{"repeated interaction identifier: an unregistered last one wins", orgPrefix + "A20047&" + inPrefix + slots + "&" + inPrefix + "urn:nope", "", "", "", ""},
		{"unknown organisation", orgPrefix + "B99999&" + inPrefix + slots, "", "", "", ""},
		{"interaction not on the AS record", orgPrefix + "A20047&" + inPrefix + "urn:nhs:names:services:gp2gp:COPC_IN000001UK01", "", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := do(t, srv, "GET", "/Device?"+tt.query, nil)
			assert.Equal(t, r.status, http.StatusOK, "status")
			b := decodeBundle(t, r)
			if tt.wantASID == "" {
				assert.Equal(t, len(b.Entry), 0, "entries")
				assert.Contains(t, string(r.body), `"entry": []`, "empty searchset body")
				return
			}
			if len(b.Entry) != 1 {
				t.Fatalf("entries = %d, want 1:\n%s", len(b.Entry), r.body)
			}
			d := b.Entry[0].Resource
			assert.Equal(t, d.ResourceType, "Device", "resourceType")
			assert.Equal(t, d.identifierValue(gpc.SystemASID), tt.wantASID, "ASID")
			assert.Equal(t, d.identifierValue(gpc.SystemPartyKey), tt.wantPK, "party key")
			assert.Equal(t, d.Owner.Identifier.System, gpc.SystemODSCode, "owner system")
			assert.Equal(t, d.Owner.Identifier.Value, tt.wantOwner, "owner")
			assert.DeepEqual(t, d.extensionValues("https://fhir.nhs.uk/StructureDefinition/Extension-SDS-ManufacturingOrganisation"), []string{tt.wantManuf}, "manufacturing organisation")
			var want []string
			for _, in := range allInteractions() {
				want = append(want, string(in))
			}
			assert.DeepEqual(t, d.extensionValues("https://fhir.nhs.uk/StructureDefinition/Extension-SDS-NhsServiceInteractionId"), want, "one interaction extension per interaction")
			assert.Equal(t, b.Entry[0].FullURL, sdsBase+"/Device/"+d.ID, "fullUrl")
			assert.Equal(t, b.Entry[0].Search.Mode, "match", "search.mode")
		})
	}
}

// TestDeviceWithoutPartyKey: a consumer with no party key has a Device
// without that identifier, and no party key search finds it.
func TestDeviceWithoutPartyKey(t *testing.T) {
	t.Parallel()
	data := testData()
	data.Consumer.PartyKey = ""
	srv := newServer(t, data)
	r := do(t, srv, "GET", "/Device?"+orgPrefix+consumerODS+"&"+inPrefix+slots, nil)
	b := decodeBundle(t, r)
	if len(b.Entry) != 1 {
		t.Fatalf("entries = %d, want 1", len(b.Entry))
	}
	assert.DeepEqual(t, b.Entry[0].Resource.Identifier, []identifier{{gpc.SystemASID, consumerASID}}, "identifiers")
	r = do(t, srv, "GET", "/Device?"+orgPrefix+consumerODS+"&"+inPrefix+slots+"&"+pkPrefix+consumerPK, nil)
	assert.Equal(t, len(decodeBundle(t, r).Entry), 0, "entries for a party key search")
}

func TestEndpointHasNoASID(t *testing.T) {
	t.Parallel()
	srv := newServer(t, testData())
	r := do(t, srv, "GET", "/Endpoint?"+orgPrefix+"A20047&"+pkPrefix+a20047PK, nil)
	b := decodeBundle(t, r)
	assert.Equal(t, len(b.Entry), len(gpc.Interactions), "entries")
	for _, e := range b.Entry {
		var systems []string
		for _, id := range e.Resource.Identifier {
			systems = append(systems, id.System)
		}
		assert.DeepEqual(t, systems, []string{gpc.SystemMhsFQDN, gpc.SystemPartyKey, gpc.SystemMHSID}, "identifier systems")
		assert.Equal(t, e.Resource.identifierValue(gpc.SystemMhsFQDN), "a20047.provider.spine-sandbox.invalid", "nhsMhsFQDN: the world's FQDN for the sandbox's own provider")
	}
	for _, s := range []string{gpc.SystemASID, a20047ASID} {
		if strings.Contains(string(r.body), s) {
			t.Errorf("Endpoint bundle contains %q; the ASID belongs on the Device only", s)
		}
	}
}

func TestDeviceHasASID(t *testing.T) {
	t.Parallel()
	srv := newServer(t, testData())
	r := do(t, srv, "GET", "/Device?"+orgPrefix+"A20047&"+inPrefix+slots, nil)
	b := decodeBundle(t, r)
	if len(b.Entry) != 1 {
		t.Fatalf("entries = %d, want 1", len(b.Entry))
	}
	assert.DeepEqual(t, b.Entry[0].Resource.Identifier, []identifier{{gpc.SystemASID, a20047ASID}, {gpc.SystemPartyKey, a20047PK}}, "identifiers")
}

func TestSelfLink(t *testing.T) {
	t.Parallel()
	srv := newServer(t, testData())
	raw := "organization=" + gpc.SystemODSCode + "%7CA20047&identifier=" + gpc.SystemInteractionID + "%7C" + slots
	for _, path := range []string{"/Endpoint", "/Device"} {
		r := do(t, srv, "GET", path+"?"+raw, nil)
		b := decodeBundle(t, r)
		if len(b.Link) != 1 {
			t.Fatalf("%s: links = %v, want one", path, b.Link)
		}
		assert.Equal(t, b.Link[0].Relation, "self", path+" link relation")
		assert.Equal(t, b.Link[0].URL, sdsBase+path+"?"+orgPrefix+"A20047&"+inPrefix+slots, path+" self link (unescaped)")
	}
}

// TestStableIDs: resource ids derive from the record, bundle ids are random.
func TestStableIDs(t *testing.T) {
	t.Parallel()
	srv1, srv2 := newServer(t, testData()), newServer(t, testData())
	for _, target := range []string{
		"/Endpoint?" + orgPrefix + "A20047&" + inPrefix + slots,
		"/Device?" + orgPrefix + "A20047&" + inPrefix + slots,
	} {
		b1 := decodeBundle(t, do(t, srv1, "GET", target, nil))
		b2 := decodeBundle(t, do(t, srv1, "GET", target, nil))
		b3 := decodeBundle(t, do(t, srv2, "GET", target, nil))
		id := b1.Entry[0].Resource.ID
		if !upperUUID.MatchString(id) || !upperUUID.MatchString(b1.ID) {
			t.Errorf("%s: ids %q, %q are not upper-case UUIDs", target, id, b1.ID)
		}
		assert.Equal(t, b2.Entry[0].Resource.ID, id, target+": resource id on a second request")
		assert.Equal(t, b3.Entry[0].Resource.ID, id, target+": resource id in another session")
		if b1.ID == b2.ID {
			t.Errorf("%s: bundle id %s repeated; it must be random", target, b1.ID)
		}
	}
	e := decodeBundle(t, do(t, srv1, "GET", "/Endpoint?"+orgPrefix+"A20047&"+inPrefix+string(gpc.ReadMetadata), nil))
	d := decodeBundle(t, do(t, srv1, "GET", "/Endpoint?"+orgPrefix+"A20047&"+inPrefix+slots, nil))
	if e.Entry[0].Resource.ID == d.Entry[0].Resource.ID {
		t.Errorf("two interactions' Endpoints share id %s", e.Entry[0].Resource.ID)
	}
}

func TestBadRequest(t *testing.T) {
	t.Parallel()
	srv := newServer(t, testData())
	okEndpoint := orgPrefix + "A20047&" + inPrefix + slots
	tests := []struct {
		name   string
		target string
		reason string
	}{
		{"endpoint: illegal parameter", "/Endpoint?" + okEndpoint + "&foo=bar", "Illegal query parameter 'foo'"},
		{"endpoint: manufacturing-organization is Device only", "/Endpoint?" + okEndpoint + "&" + mfPrefix + "A1001", "Illegal query parameter 'manufacturing-organization'"},
		{"endpoint: _format is illegal", "/Endpoint?_format=json&" + okEndpoint, "Illegal query parameter '_format'"},
		{"endpoint: no parameters", "/Endpoint", badCombination},
		{"endpoint: organization only", "/Endpoint?" + orgPrefix + "A20047", badCombination},
		{"endpoint: interaction only", "/Endpoint?" + inPrefix + slots, badCombination},
		{"endpoint: party key only", "/Endpoint?" + pkPrefix + a20047PK, badCombination},
		{"endpoint: organization with a blank value", "/Endpoint?" + orgPrefix + "&" + inPrefix + slots, badCombination},
		{"endpoint: blank interaction", "/Endpoint?" + orgPrefix + "A20047&" + inPrefix, badCombination},
		{"endpoint: organization without system", "/Endpoint?organization=A20047&" + inPrefix + slots, badSystemOrg},
		{"endpoint: organization with another system", "/Endpoint?organization=https://fhir.nhs.uk/Id/ods-site-code|A20047&" + inPrefix + slots, badSystemOrg},
		{"endpoint: organization without value", "/Endpoint?organization&" + inPrefix + slots, badSystemOrg},
		{"endpoint: identifier with an unknown system", "/Endpoint?" + orgPrefix + "A20047&identifier=" + gpc.SystemASID + "|" + a20047ASID, badIdentifier},
		{"endpoint: one good and one bad identifier", "/Endpoint?" + okEndpoint + "&identifier=" + slots, badIdentifier},
		{"endpoint: first bad parameter decides", "/Endpoint?foo=1&organization=A20047", "Illegal query parameter 'foo'"},
		{"endpoint: first bad parameter decides (organization first)", "/Endpoint?organization=A20047&foo=1", badSystemOrg},
		{"endpoint: malformed escape", "/Endpoint?organization=%zz", `Invalid query string: invalid URL escape "%zz"`},
		{"device: no parameters", "/Device", badSystemOrg},
		{"device: missing organization", "/Device?" + inPrefix + slots, badSystemOrg},
		{"device: missing identifier", "/Device?" + orgPrefix + "A20047", noInteraction},
		{"device: party key but no interaction", "/Device?" + orgPrefix + "A20047&" + pkPrefix + a20047PK, noInteraction},
		{"device: blank interaction", "/Device?" + orgPrefix + "A20047&" + inPrefix, noInteraction},
		{"device: organization with another system", "/Device?organization=X|A20047&" + inPrefix + slots, badSystemOrg},
		{"device: identifier with an unknown system", "/Device?" + orgPrefix + "A20047&identifier=" + gpc.SystemASID + "|1", badIdentifier},
		{"device: manufacturing-organization without system", "/Device?" + orgPrefix + consumerODS + "&" + inPrefix + slots + "&manufacturing-organization=" + supplierODS, badManufOrg},
		{"device: illegal parameter", "/Device?" + orgPrefix + "A20047&" + inPrefix + slots + "&managing-organization=" + gpc.SystemODSCode + "|X", "Illegal query parameter 'managing-organization'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := do(t, srv, "GET", tt.target, map[string]string{"X-Correlation-Id": corrID})
			assertBadRequest(t, r, tt.reason)
			assert.Equal(t, r.header.Get("X-Correlation-Id"), corrID, "X-Correlation-Id")
		})
	}
}

func TestCorrelationID(t *testing.T) {
	t.Parallel()
	srv := newServer(t, testData())
	ok := "/Endpoint?" + orgPrefix + "A20047&" + inPrefix + slots
	t.Run("echoed as sent", func(t *testing.T) {
		t.Parallel()
		for _, id := range []string{corrID, strings.ToUpper(corrID)} {
			r := do(t, srv, "GET", ok, map[string]string{"X-Correlation-Id": id})
			assert.Equal(t, r.status, http.StatusOK, "status")
			assert.Equal(t, r.header.Get("X-Correlation-Id"), id, "X-Correlation-Id")
		}
	})
	t.Run("generated when absent", func(t *testing.T) {
		t.Parallel()
		r1 := do(t, srv, "GET", ok, nil)
		r2 := do(t, srv, "GET", ok, nil)
		id1, id2 := r1.header.Get("X-Correlation-Id"), r2.header.Get("X-Correlation-Id")
		if !upperUUID.MatchString(id1) || id1 == id2 {
			t.Errorf("generated ids %q, %q: want two different upper-case UUIDs", id1, id2)
		}
	})
	t.Run("generated for an error when absent", func(t *testing.T) {
		t.Parallel()
		r := do(t, srv, "GET", "/Endpoint?foo=1", nil)
		assertBadRequest(t, r, "Illegal query parameter 'foo'")
		if !upperUUID.MatchString(r.header.Get("X-Correlation-Id")) {
			t.Errorf("X-Correlation-Id = %q, want a generated UUID", r.header.Get("X-Correlation-Id"))
		}
	})
	for _, bad := range []string{"abc", "0b9e1c3a5f2d4e7a9c412d8f6a7b3e10", corrID + "0", "{" + corrID + "}"} {
		t.Run("not a UUID: "+bad, func(t *testing.T) {
			t.Parallel()
			// Checked before the parameters: an illegal one does not matter.
			r := do(t, srv, "GET", "/Device?foo=1", map[string]string{"X-Correlation-Id": bad})
			assertBadRequest(t, r, badCorrelation)
			got := r.header.Get("X-Correlation-Id")
			if !upperUUID.MatchString(got) {
				t.Errorf("X-Correlation-Id = %q, want a new UUID in place of the bad one", got)
			}
		})
	}
}

func TestRequestIDPassedThrough(t *testing.T) {
	t.Parallel()
	srv := newServer(t, testData())
	for _, target := range []string{"/Endpoint?" + orgPrefix + "A20047&" + inPrefix + slots, "/Endpoint?foo=1", "/Nope"} {
		r := do(t, srv, "GET", target, map[string]string{"X-Request-ID": "req-42"})
		assert.Equal(t, r.header.Get("X-Request-Id"), "req-42", target+" X-Request-Id")
		r = do(t, srv, "GET", target, nil)
		assert.Equal(t, r.header.Get("X-Request-Id"), "", target+" X-Request-Id when not sent")
	}
}

func TestAccept(t *testing.T) {
	t.Parallel()
	srv := newServer(t, testData())
	targets := []string{"/Endpoint?" + orgPrefix + "A20047&" + inPrefix + slots, "/Device?" + orgPrefix + "A20047&" + inPrefix + slots}
	tests := []struct {
		accept          string
		wantStatus      int
		wantContentType string
	}{
		{"", http.StatusOK, "application/fhir+json"},
		{"application/fhir+json", http.StatusOK, "application/fhir+json"},
		{"application/json", http.StatusOK, "application/json"},
		{"APPLICATION/JSON", http.StatusOK, "application/json"},
		{"*/*", http.StatusOK, "application/fhir+json"},
		{"text/html", http.StatusNotAcceptable, "application/fhir+json"},
		{"application/xml", http.StatusNotAcceptable, "application/fhir+json"},
		{"application/fhir+xml", http.StatusNotAcceptable, "application/fhir+json"},
		{"application/json, text/plain", http.StatusNotAcceptable, "application/fhir+json"},
	}
	for _, tt := range tests {
		for _, target := range targets {
			t.Run(strings.SplitN(target, "?", 2)[0]+" "+tt.accept, func(t *testing.T) {
				t.Parallel()
				r := do(t, srv, "GET", target, map[string]string{"Accept": tt.accept, "X-Correlation-Id": corrID})
				if tt.wantStatus == http.StatusNotAcceptable {
					assertOutcome(t, r, http.StatusNotAcceptable, "not-supported", "MISSING_OR_INVALID_HEADER", "There is a required header missing or invalid", "Accept type not supported")
					assert.Equal(t, r.header.Get("X-Correlation-Id"), corrID, "X-Correlation-Id")
					return
				}
				assert.Equal(t, r.status, tt.wantStatus, "status")
				assert.Equal(t, r.header.Get("Content-Type"), tt.wantContentType, "Content-Type")
				decodeBundle(t, r)
			})
		}
	}
	t.Run("parameters are checked before Accept", func(t *testing.T) {
		t.Parallel()
		r := do(t, srv, "GET", "/Endpoint?foo=1", map[string]string{"Accept": "text/html"})
		assertBadRequest(t, r, "Illegal query parameter 'foo'")
	})
}

func TestEtag(t *testing.T) {
	t.Parallel()
	srv := newServer(t, testData())
	r := do(t, srv, "GET", "/Endpoint?"+orgPrefix+"A20047&"+inPrefix+slots, nil)
	sum := sha1.Sum(r.body)
	assert.Equal(t, r.header.Get("Etag"), `"`+hex.EncodeToString(sum[:])+`"`, "Etag")
}

func TestAPIKeyNotRequired(t *testing.T) {
	t.Parallel()
	srv := newServer(t, testData())
	for _, key := range []string{"", "anything", "another"} {
		r := do(t, srv, "GET", "/Device?"+orgPrefix+"A20047&"+inPrefix+slots, map[string]string{"apikey": key})
		assert.Equal(t, r.status, http.StatusOK, "status with apikey "+key)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	t.Parallel()
	srv := newServer(t, testData())
	for _, path := range []string{"/Endpoint", "/Device?" + orgPrefix + "A20047&" + inPrefix + slots} {
		for _, method := range []string{"POST", "PUT", "PATCH", "DELETE", "OPTIONS"} {
			t.Run(method+" "+path, func(t *testing.T) {
				t.Parallel()
				r := do(t, srv, method, path, map[string]string{"X-Correlation-Id": corrID})
				assertOutcome(t, r, http.StatusMethodNotAllowed, "not-supported", "NOT_IMPLEMENTED", "Not implemented", "HTTP operation not supported")
				assert.Equal(t, r.header.Get("Allow"), "GET", "Allow")
				assert.Equal(t, r.header.Get("X-Correlation-Id"), corrID, "X-Correlation-Id")
			})
		}
	}
	t.Run("HEAD", func(t *testing.T) {
		t.Parallel()
		r := do(t, srv, "HEAD", "/Endpoint", nil)
		assert.Equal(t, r.status, http.StatusMethodNotAllowed, "status")
		assert.Equal(t, r.header.Get("Allow"), "GET", "Allow")
		assert.Equal(t, len(r.body), 0, "HEAD body length")
	})
	t.Run("a bad correlation id does not hide the 405", func(t *testing.T) {
		t.Parallel()
		r := do(t, srv, "POST", "/Endpoint", map[string]string{"X-Correlation-Id": "abc"})
		assertOutcome(t, r, http.StatusMethodNotAllowed, "not-supported", "NOT_IMPLEMENTED", "Not implemented", "HTTP operation not supported")
	})
}

func TestUnknownPath(t *testing.T) {
	t.Parallel()
	srv := newServer(t, testData())
	tests := []struct{ method, path string }{
		{"GET", "/"},
		{"GET", "/Patient?identifier=x"},
		{"GET", "/Endpoint/"},
		{"GET", "/Endpoint/2A6360CB-AF88-4086-8D3E-A73D9610CAC4"},
		{"GET", "/Device/x"},
		{"GET", "/endpoint?" + orgPrefix + "A20047&" + inPrefix + slots},
		{"GET", "/metadata"},
		{"POST", "/Nope"}, // the path is checked before the method
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			t.Parallel()
			r := do(t, srv, tt.method, tt.path, map[string]string{"X-Correlation-Id": corrID})
			assertOutcome(t, r, http.StatusNotFound, "not-found", "NO_RECORD_FOUND", "No record found", "HTTP endpoint not found")
			assert.Equal(t, r.header.Get("X-Correlation-Id"), corrID, "X-Correlation-Id")
			assert.Equal(t, r.header.Get("Allow"), "", "Allow")
		})
	}
}

func BenchmarkEndpointSearch(b *testing.B) {
	srv := newServer(b, testData())
	target := srv.URL + "/Endpoint?" + orgPrefix + "A20047&" + inPrefix + slots
	client := srv.Client()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, err := client.Get(target)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Fatalf("status %d", res.StatusCode)
		}
	}
}
