package jwt_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/jwt"
)

const serviceRoot = "https://gp.sandbox.test/B86041/STU3/1/gpconnect"

var now = time.Date(2026, 3, 2, 10, 30, 0, 0, time.UTC)

var identity = jwt.Identity{
	Issuer:           "https://consumer.sandbox.test/",
	DeviceSystem:     "https://consumer.sandbox.test/Id/device",
	DeviceID:         "BOOKER-7",
	DeviceModel:      "Sandbox Booker",
	DeviceVersion:    "2.1.0",
	OrgODS:           "R1A14",
	OrgName:          "Riverside Urgent Care",
	PractitionerID:   "PR-4411",
	SDSUserID:        "556677889900",
	SDSRoleProfileID: "112233445566",
	UserGUIDSystem:   "https://consumer.sandbox.test/Id/user-guid",
	UserGUID:         "3f1c2b9e-7a4d-4e61-9b0a-5d2c8e7f1a44",
	Family:           "Okafor",
	Given:            []string{"Amara"},
	Prefix:           []string{"Dr"},
}

func build(t testing.TB) string {
	t.Helper()
	tok, err := jwt.Build(identity, serviceRoot, gpc.OrganizationRead, now)
	assert.NilError(t, err)
	return tok
}

// claimsOf decodes a built token's payload into a generic map so tests can
// break it.
func claimsOf(t testing.TB, tok string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	assert.NilError(t, err)
	var m map[string]any
	assert.NilError(t, json.Unmarshal(b, &m))
	return m
}

func encode(t testing.TB, header string, claims map[string]any) string {
	t.Helper()
	b, err := json.Marshal(claims)
	assert.NilError(t, err)
	return base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + base64.RawURLEncoding.EncodeToString(b) + "."
}

const goodHeader = `{"alg":"none","typ":"JWT"}`

func TestBuildValidateRoundTrip(t *testing.T) {
	t.Parallel()
	tok := build(t)
	vs := jwt.Validate("Bearer "+tok, jwt.Expect{Audience: serviceRoot, Scope: gpc.OrganizationRead, Now: now, CheckAudience: true})
	assert.Equal(t, len(vs), 0, "violations")
	for _, v := range vs {
		t.Errorf("unexpected violation %s", v)
	}
}

func TestBuildShape(t *testing.T) {
	t.Parallel()
	tok := build(t)
	if !strings.HasSuffix(tok, ".") {
		t.Errorf("token %q does not end with '.'", tok)
	}
	if strings.ContainsAny(tok, "=+/") {
		t.Errorf("token %q contains padding or non-url base64", tok)
	}
	parts := strings.Split(tok, ".")
	assert.Equal(t, len(parts), 3, "parts")
	h, err := base64.RawURLEncoding.DecodeString(parts[0])
	assert.NilError(t, err)
	assert.Equal(t, string(h), goodHeader, "header")

	c, err := jwt.Parse(tok)
	assert.NilError(t, err)
	assert.Equal(t, c.Alg, "none", "alg")
	assert.Equal(t, c.Typ, "JWT", "typ")
	assert.Equal(t, c.Issuer, identity.Issuer, "iss")
	assert.Equal(t, c.Subject, "PR-4411", "sub")
	assert.Equal(t, c.Audience, serviceRoot, "aud")
	assert.Equal(t, c.IssuedAt, now.Unix(), "iat")
	assert.Equal(t, c.ExpiresAt, now.Unix()+300, "exp")
	assert.Equal(t, c.ReasonForRequest, "directcare", "reason_for_request")
	assert.Equal(t, c.RequestedScope, gpc.OrganizationRead, "requested_scope")
	assert.DeepEqual(t, c.Device, &jwt.Device{ResourceType: "Device",
		Identifier: []jwt.Identifier{{System: "https://consumer.sandbox.test/Id/device", Value: "BOOKER-7"}},
		Model:      "Sandbox Booker", Version: "2.1.0"}, "device")
	assert.DeepEqual(t, c.Organization, &jwt.Organization{ResourceType: "Organization",
		Identifier: []jwt.Identifier{{System: gpc.SystemODSCode, Value: "R1A14"}},
		Name:       "Riverside Urgent Care"}, "organization")
	assert.DeepEqual(t, c.Practitioner, &jwt.Practitioner{ResourceType: "Practitioner", ID: "PR-4411",
		Identifier: []jwt.Identifier{
			{System: gpc.SystemSDSUserID, Value: "556677889900"},
			{System: gpc.SystemSDSRoleProfileID, Value: "112233445566"},
			{System: "https://consumer.sandbox.test/Id/user-guid", Value: "3f1c2b9e-7a4d-4e61-9b0a-5d2c8e7f1a44"},
		},
		Name: []jwt.HumanName{{Family: "Okafor", Given: []string{"Amara"}, Prefix: []string{"Dr"}}}}, "practitioner")
	assert.Equal(t, len(c.RequestedRecord), 0, "requested_record length")
}

func TestBuildOptionalIdentifiers(t *testing.T) {
	t.Parallel()
	id := identity
	id.SDSUserID, id.SDSRoleProfileID, id.UserGUID = "", "", ""
	tok, err := jwt.Build(id, serviceRoot, gpc.PatientWrite, now)
	assert.NilError(t, err)
	c, err := jwt.Parse(tok)
	assert.NilError(t, err)
	assert.DeepEqual(t, c.Practitioner.Identifier, []jwt.Identifier{{System: gpc.SystemSDSUserID, Value: "UNK"}}, "identifiers")
	assert.Equal(t, c.RequestedScope, gpc.PatientWrite, "scope")
}

func TestBuildRejectsIncompleteIdentity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*jwt.Identity)
		aud    string
		scope  gpc.Scope
		want   string
	}{
		{"no issuer", func(id *jwt.Identity) { id.Issuer = "" }, serviceRoot, gpc.PatientRead, "JWT_CLAIM_MISSING"},
		{"no practitioner id", func(id *jwt.Identity) { id.PractitionerID = "" }, serviceRoot, gpc.PatientRead, "JWT_CLAIM_MISSING"},
		{"no family name", func(id *jwt.Identity) { id.Family = "" }, serviceRoot, gpc.PatientRead, "JWT_PRACTITIONER_INCOMPLETE"},
		{"no org name", func(id *jwt.Identity) { id.OrgName = "" }, serviceRoot, gpc.PatientRead, "JWT_ORGANIZATION_INCOMPLETE"},
		{"no device model", func(id *jwt.Identity) { id.DeviceModel = "" }, serviceRoot, gpc.PatientRead, "JWT_DEVICE_INCOMPLETE"},
		{"no audience", func(*jwt.Identity) {}, "", gpc.PatientRead, "JWT_CLAIM_MISSING"},
		{"bad scope", func(*jwt.Identity) {}, serviceRoot, "patient/*.read conf/N", "JWT_SCOPE_INVALID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			id := identity
			tt.change(&id)
			tok, err := jwt.Build(id, tt.aud, tt.scope, now)
			if err == nil {
				t.Fatalf("Build = %q, want an error", tok)
			}
			assert.Contains(t, err.Error(), tt.want, "error")
		})
	}
}

func TestRulesAreUniqueAndComplete(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, r := range jwt.Rules {
		if seen[r.Name] {
			t.Errorf("duplicate rule %s", r.Name)
		}
		seen[r.Name] = true
		if !strings.HasPrefix(r.Name, "JWT_") || strings.ToUpper(r.Name) != r.Name {
			t.Errorf("rule name %q is not UPPER_SNAKE with JWT_ prefix", r.Name)
		}
		if r.What == "" || r.Section == "" {
			t.Errorf("rule %s lacks what or section", r.Name)
		}
		if r.Status != r.Code.Status() {
			t.Errorf("rule %s: status %d differs from %s's %d", r.Name, r.Status, r.Code, r.Code.Status())
		}
	}
}

// BenchmarkBuild: a consumer's token for one request, which Build judges
// with every rule before handing it out (a new token each time, so the
// store of read tokens never answers).
func BenchmarkBuild(b *testing.B) {
	now := time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Second)
		if _, err := jwt.Build(identity, serviceRoot, gpc.OrganizationRead, now); err != nil {
			b.Fatal(err)
		}
	}
}
