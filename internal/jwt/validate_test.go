package jwt_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/jwt"
)

// metadata is what GET /metadata expects: the conformance tests of
// gpconnect-1.6.md §2.4 all use it.
var metadata = jwt.Expect{Audience: serviceRoot, Scope: gpc.OrganizationRead, Now: now, CheckAudience: true}

// mutate returns a Bearer header for the built token with its claims
// changed by f.
func mutate(t *testing.T, f func(c map[string]any)) string {
	t.Helper()
	c := claimsOf(t, build(t))
	f(c)
	return "Bearer " + encode(t, goodHeader, c)
}

func resource(c map[string]any, claim string) map[string]any {
	return c[claim].(map[string]any)
}

// TestValidateConformance has one row per case of §2.4's conformance table
// (JWT.feature) and per demonstrator check, each with the single rule,
// status and code expected; a row with an empty rule must be accepted.
func TestValidateConformance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		header func(t *testing.T) string
		want   jwt.Expect
		rule   string
		status int
		code   gpc.Code
	}{
		// JWT.feature rows.
		{"JWT not base64 encoded", func(t *testing.T) string {
			return "Bearer " + `{"alg":"none","typ":"JWT"}.{"iss":"x"}.`
		}, metadata, "JWT_NOT_BASE64URL", 400, gpc.BadRequest},
		{"missing iss", func(t *testing.T) string { return mutate(t, func(c map[string]any) { delete(c, "iss") }) }, metadata, "JWT_CLAIM_MISSING", 400, gpc.BadRequest},
		{"missing exp", func(t *testing.T) string { return mutate(t, func(c map[string]any) { delete(c, "exp") }) }, metadata, "JWT_CLAIM_MISSING", 400, gpc.BadRequest},
		{"exp - iat = 301", func(t *testing.T) string {
			return mutate(t, func(c map[string]any) { c["exp"] = now.Unix() + 301 })
		}, metadata, "JWT_EXP_NOT_IAT_PLUS_300", 400, gpc.BadRequest},
		{"exp - iat = 299", func(t *testing.T) string {
			return mutate(t, func(c map[string]any) { c["exp"] = now.Unix() + 299 })
		}, metadata, "JWT_EXP_NOT_IAT_PLUS_300", 400, gpc.BadRequest},
		{"exp - iat = -1", func(t *testing.T) string {
			// iat 10 minutes ahead so the token is not also expired.
			return mutate(t, func(c map[string]any) { c["iat"] = now.Unix() + 600; c["exp"] = now.Unix() + 599 })
		}, metadata, "JWT_EXP_NOT_IAT_PLUS_300", 400, gpc.BadRequest},
		{"missing iat", func(t *testing.T) string { return mutate(t, func(c map[string]any) { delete(c, "iat") }) }, metadata, "JWT_CLAIM_MISSING", 400, gpc.BadRequest},
		{"iat 200s in the future is accepted", func(t *testing.T) string {
			return mutate(t, func(c map[string]any) { c["iat"] = now.Unix() + 200; c["exp"] = now.Unix() + 500 })
		}, metadata, "", 200, ""},
		{"missing reason_for_request", func(t *testing.T) string {
			return mutate(t, func(c map[string]any) { delete(c, "reason_for_request") })
		}, metadata, "JWT_CLAIM_MISSING", 400, gpc.BadRequest},
		{"missing aud", func(t *testing.T) string { return mutate(t, func(c map[string]any) { delete(c, "aud") }) }, metadata, "JWT_CLAIM_MISSING", 400, gpc.BadRequest},
		{"missing requesting_device", func(t *testing.T) string {
			return mutate(t, func(c map[string]any) { delete(c, "requesting_device") })
		}, metadata, "JWT_CLAIM_MISSING", 400, gpc.BadRequest},
		{"requesting_device not a valid Device", func(t *testing.T) string {
			return mutate(t, func(c map[string]any) { resource(c, "requesting_device")["identifier"] = "BOOKER-7" })
		}, metadata, "JWT_DEVICE_INVALID", 422, gpc.InvalidResource},
		{"requesting_device with an element STU3 does not define", func(t *testing.T) string {
			return mutate(t, func(c map[string]any) { resource(c, "requesting_device")["invalidField"] = "x" })
		}, metadata, "JWT_DEVICE_INVALID", 422, gpc.InvalidResource},
		{"requesting_practitioner with an element STU3 does not define", func(t *testing.T) string {
			return mutate(t, func(c map[string]any) { resource(c, "requesting_practitioner")["invalidField"] = "x" })
		}, metadata, "JWT_PRACTITIONER_INVALID", 422, gpc.InvalidResource},
		{"requesting_device not an object", func(t *testing.T) string {
			return mutate(t, func(c map[string]any) { c["requesting_device"] = "Device/BOOKER-7" })
		}, metadata, "JWT_DEVICE_INVALID", 422, gpc.InvalidResource},
		{"requesting_device resourceType wrong", func(t *testing.T) string {
			return mutate(t, func(c map[string]any) { resource(c, "requesting_device")["resourceType"] = "Patient" })
		}, metadata, "JWT_DEVICE_INVALID", 422, gpc.InvalidResource},
		{"missing requesting_practitioner", func(t *testing.T) string {
			return mutate(t, func(c map[string]any) { delete(c, "requesting_practitioner") })
		}, metadata, "JWT_CLAIM_MISSING", 400, gpc.BadRequest},
		{"practitioner identifiers UNK", func(t *testing.T) string {
			return mutate(t, func(c map[string]any) {
				resource(c, "requesting_practitioner")["identifier"] = []any{
					map[string]any{"system": gpc.SystemSDSUserID, "value": "UNK"},
					map[string]any{"system": gpc.SystemSDSRoleProfileID, "value": "UNK"},
				}
			})
		}, metadata, "", 200, ""},
		{"practitioner missing role profile and guid", func(t *testing.T) string {
			return mutate(t, func(c map[string]any) {
				resource(c, "requesting_practitioner")["identifier"] = []any{
					map[string]any{"system": gpc.SystemSDSUserID, "value": "556677889900"},
				}
			})
		}, metadata, "", 200, ""},
		{"requesting_practitioner resourceType wrong", func(t *testing.T) string {
			return mutate(t, func(c map[string]any) { resource(c, "requesting_practitioner")["resourceType"] = "Person" })
		}, metadata, "JWT_PRACTITIONER_INVALID", 422, gpc.InvalidResource},
		{"missing requested_scope", func(t *testing.T) string {
			return mutate(t, func(c map[string]any) { delete(c, "requested_scope") })
		}, metadata, "JWT_CLAIM_MISSING", 400, gpc.BadRequest},
		{"patient scope for metadata", func(t *testing.T) string {
			return mutate(t, func(c map[string]any) { c["requested_scope"] = "patient/*.read" })
		}, metadata, "JWT_SCOPE_WRONG_FOR_INTERACTION", 400, gpc.BadRequest},
		{"organization ODS system (RC5 backward compatibility)", func(t *testing.T) string {
			return mutate(t, func(c map[string]any) {
				resource(c, "requesting_organization")["identifier"] = []any{
					map[string]any{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "R1A14"},
				}
			})
		}, metadata, "", 200, ""},
		{"iat now, exp iat+300", func(t *testing.T) string { return "Bearer " + build(t) }, metadata, "", 200, ""},
		{"iat now-600, exp iat+300 (expired)", func(t *testing.T) string {
			return mutate(t, func(c map[string]any) { c["iat"] = now.Unix() - 600; c["exp"] = now.Unix() - 300 })
		}, metadata, "JWT_EXPIRED", 400, gpc.BadRequest},

		// Demonstrator checks and structure (§2.1, §2.4).
		{"no Authorization header", func(t *testing.T) string { return "" }, metadata, "JWT_MISSING", 400, gpc.BadRequest},
		{"Bearer with no token", func(t *testing.T) string { return "Bearer " }, metadata, "JWT_MISSING", 400, gpc.BadRequest},
		{"Basic scheme", func(t *testing.T) string { return "Basic dXNlcjpwYXNz" }, metadata, "JWT_NOT_BEARER", 400, gpc.BadRequest},
		{"lower-case bearer scheme accepted", func(t *testing.T) string { return "bearer " + build(t) }, metadata, "", 200, ""},
		{"trailing dot dropped", func(t *testing.T) string {
			return "Bearer " + strings.TrimSuffix(build(t), ".")
		}, metadata, "JWT_MALFORMED", 400, gpc.BadRequest},
		{"one part only", func(t *testing.T) string { return "Bearer abcdef" }, metadata, "JWT_MALFORMED", 400, gpc.BadRequest},
		{"empty payload part", func(t *testing.T) string {
			return "Bearer " + strings.Split(build(t), ".")[0] + ".."
		}, metadata, "JWT_MALFORMED", 400, gpc.BadRequest},
		{"padding ==", func(t *testing.T) string {
			p := strings.Split(build(t), ".")
			return "Bearer " + p[0] + "." + base64.URLEncoding.EncodeToString([]byte(`{"iss":"a"}`)) + "."
		}, metadata, "JWT_NOT_BASE64URL", 400, gpc.BadRequest},
		{"standard base64 with + and /", func(t *testing.T) string {
			p := strings.Split(build(t), ".")
			return "Bearer " + p[0] + "." + base64.RawStdEncoding.EncodeToString([]byte(`{"iss":"??>>"}`)) + "."
		}, metadata, "JWT_NOT_BASE64URL", 400, gpc.BadRequest},
		{"impossible base64 length", func(t *testing.T) string {
			return "Bearer " + strings.Split(build(t), ".")[0] + ".a."
		}, metadata, "JWT_NOT_BASE64URL", 400, gpc.BadRequest},
		{"signed token", func(t *testing.T) string { return "Bearer " + build(t) + "c2lnbmF0dXJl" }, metadata, "JWT_SIGNATURE_PRESENT", 400, gpc.BadRequest},
		{"alg RS256", func(t *testing.T) string {
			return "Bearer " + encode(t, `{"alg":"RS256","typ":"JWT"}`, claimsOf(t, build(t)))
		}, metadata, "JWT_HEADER_INVALID", 400, gpc.BadRequest},
		{"typ missing", func(t *testing.T) string {
			return "Bearer " + encode(t, `{"alg":"none"}`, claimsOf(t, build(t)))
		}, metadata, "JWT_HEADER_INVALID", 400, gpc.BadRequest},
		{"extra header key", func(t *testing.T) string {
			return "Bearer " + encode(t, `{"alg":"none","typ":"JWT","kid":"1"}`, claimsOf(t, build(t)))
		}, metadata, "JWT_HEADER_INVALID", 400, gpc.BadRequest},
		{"header not JSON", func(t *testing.T) string {
			return "Bearer " + encode(t, `none`, claimsOf(t, build(t)))
		}, metadata, "JWT_HEADER_INVALID", 400, gpc.BadRequest},
		{"payload not a JSON object", func(t *testing.T) string {
			return "Bearer " + base64.RawURLEncoding.EncodeToString([]byte(goodHeader)) + "." + base64.RawURLEncoding.EncodeToString([]byte(`["iss"]`)) + "."
		}, metadata, "JWT_PAYLOAD_NOT_JSON", 400, gpc.BadRequest},
		{"aud null", func(t *testing.T) string { return mutate(t, func(c map[string]any) { c["aud"] = nil }) }, metadata, "JWT_CLAIM_MISSING", 400, gpc.BadRequest},
		{"iss empty string", func(t *testing.T) string { return mutate(t, func(c map[string]any) { c["iss"] = "" }) }, metadata, "JWT_CLAIM_MISSING", 400, gpc.BadRequest},
		{"missing sub", func(t *testing.T) string { return mutate(t, func(c map[string]any) { delete(c, "sub") }) }, metadata, "JWT_CLAIM_MISSING", 400, gpc.BadRequest},
		{"missing requesting_organization", func(t *testing.T) string {
			return mutate(t, func(c map[string]any) { delete(c, "requesting_organization") })
		}, metadata, "JWT_CLAIM_MISSING", 400, gpc.BadRequest},
		{"exp as a string", func(t *testing.T) string {
			return mutate(t, func(c map[string]any) { c["exp"] = "1772447700" })
		}, metadata, "JWT_CLAIM_WRONG_TYPE", 400, gpc.BadRequest},
		{"iss as a number", func(t *testing.T) string { return mutate(t, func(c map[string]any) { c["iss"] = 42 }) }, metadata, "JWT_CLAIM_WRONG_TYPE", 400, gpc.BadRequest},
		{"requested_record present", func(t *testing.T) string {
			return mutate(t, func(c map[string]any) {
				c["requested_record"] = map[string]any{"resourceType": "Patient"}
			})
		}, metadata, "JWT_REQUESTED_RECORD_PRESENT", 400, gpc.BadRequest},
		{"exp - iat = 300000 (DSTU2 example)", func(t *testing.T) string {
			return mutate(t, func(c map[string]any) { c["exp"] = now.Unix() + 300000 })
		}, metadata, "JWT_EXP_NOT_IAT_PLUS_300", 400, gpc.BadRequest},
		{"reason migration", func(t *testing.T) string {
			return mutate(t, func(c map[string]any) { c["reason_for_request"] = "migration" })
		}, metadata, "JWT_REASON_NOT_DIRECTCARE", 400, gpc.BadRequest},
		{"scope not a base scope", func(t *testing.T) string {
			return mutate(t, func(c map[string]any) { c["requested_scope"] = "organization/*.read conf/N" })
		}, metadata, "JWT_SCOPE_INVALID", 400, gpc.BadRequest},
		{"write scope for a read", func(t *testing.T) string {
			return mutate(t, func(c map[string]any) { c["requested_scope"] = "organization/*.write" })
		}, metadata, "JWT_SCOPE_WRONG_FOR_INTERACTION", 400, gpc.BadRequest},
		{"read scope for register", func(t *testing.T) string {
			return mutate(t, func(c map[string]any) { c["requested_scope"] = "patient/*.read" })
		}, jwt.Expect{Audience: serviceRoot, Scope: gpc.PatientWrite, Now: now, CheckAudience: true}, "JWT_SCOPE_WRONG_FOR_INTERACTION", 400, gpc.BadRequest},
		{"aud another provider", func(t *testing.T) string {
			return mutate(t, func(c map[string]any) { c["aud"] = "https://other.sandbox.test/A11111/STU3/1/gpconnect" })
		}, metadata, "JWT_AUD_NOT_SERVICE_ROOT", 400, gpc.BadRequest},
		{"aud with trailing slash is not verbatim", func(t *testing.T) string {
			return mutate(t, func(c map[string]any) { c["aud"] = serviceRoot + "/" })
		}, metadata, "JWT_AUD_NOT_SERVICE_ROOT", 400, gpc.BadRequest},
		{"aud not checked when not asked", func(t *testing.T) string {
			return mutate(t, func(c map[string]any) { c["aud"] = "https://other.sandbox.test/" })
		}, jwt.Expect{Scope: gpc.OrganizationRead, Now: now}, "", 200, ""},
		{"device missing model", func(t *testing.T) string {
			return mutate(t, func(c map[string]any) { delete(resource(c, "requesting_device"), "model") })
		}, metadata, "JWT_DEVICE_INCOMPLETE", 400, gpc.BadRequest},
		{"device missing version", func(t *testing.T) string {
			return mutate(t, func(c map[string]any) { delete(resource(c, "requesting_device"), "version") })
		}, metadata, "JWT_DEVICE_INCOMPLETE", 400, gpc.BadRequest},
		{"device missing identifier", func(t *testing.T) string {
			return mutate(t, func(c map[string]any) { delete(resource(c, "requesting_device"), "identifier") })
		}, metadata, "JWT_DEVICE_INCOMPLETE", 400, gpc.BadRequest},
		{"organization missing name", func(t *testing.T) string {
			return mutate(t, func(c map[string]any) { delete(resource(c, "requesting_organization"), "name") })
		}, metadata, "JWT_ORGANIZATION_INCOMPLETE", 400, gpc.BadRequest},
		{"organization with old DSTU2 ODS system", func(t *testing.T) string {
			return mutate(t, func(c map[string]any) {
				resource(c, "requesting_organization")["identifier"] = []any{
					map[string]any{"system": "http://fhir.nhs.net/Id/ods-organization-code", "value": "R1A14"},
				}
			})
		}, metadata, "JWT_ORGANIZATION_INCOMPLETE", 400, gpc.BadRequest},
		{"organization resourceType wrong", func(t *testing.T) string {
			return mutate(t, func(c map[string]any) { resource(c, "requesting_organization")["resourceType"] = "Device" })
		}, metadata, "JWT_ORGANIZATION_INVALID", 422, gpc.InvalidResource},
		{"organization name not a string", func(t *testing.T) string {
			return mutate(t, func(c map[string]any) { resource(c, "requesting_organization")["name"] = []any{"x"} })
		}, metadata, "JWT_ORGANIZATION_INVALID", 422, gpc.InvalidResource},
		{"practitioner missing family", func(t *testing.T) string {
			return mutate(t, func(c map[string]any) {
				resource(c, "requesting_practitioner")["name"] = []any{map[string]any{"given": []any{"Amara"}}}
			})
		}, metadata, "JWT_PRACTITIONER_INCOMPLETE", 400, gpc.BadRequest},
		{"practitioner missing given", func(t *testing.T) string {
			return mutate(t, func(c map[string]any) {
				resource(c, "requesting_practitioner")["name"] = []any{map[string]any{"family": "Okafor"}}
			})
		}, metadata, "JWT_PRACTITIONER_INCOMPLETE", 400, gpc.BadRequest},
		{"practitioner missing sds-user-id", func(t *testing.T) string {
			return mutate(t, func(c map[string]any) {
				resource(c, "requesting_practitioner")["identifier"] = []any{
					map[string]any{"system": gpc.SystemSDSRoleProfileID, "value": "112233445566"},
				}
			})
		}, metadata, "JWT_PRACTITIONER_INCOMPLETE", 400, gpc.BadRequest},
		{"practitioner not an object", func(t *testing.T) string {
			return mutate(t, func(c map[string]any) { c["requesting_practitioner"] = []any{} })
		}, metadata, "JWT_PRACTITIONER_INVALID", 422, gpc.InvalidResource},
		{"sub differs from practitioner id", func(t *testing.T) string {
			return mutate(t, func(c map[string]any) { c["sub"] = "PR-0001" })
		}, metadata, "JWT_SUB_NOT_PRACTITIONER_ID", 400, gpc.BadRequest},
		{"practitioner missing id", func(t *testing.T) string {
			return mutate(t, func(c map[string]any) { delete(resource(c, "requesting_practitioner"), "id") })
		}, metadata, "JWT_PRACTITIONER_INCOMPLETE", 400, gpc.BadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			vs := jwt.Validate(tt.header(t), tt.want)
			if tt.rule == "" {
				for _, v := range vs {
					t.Errorf("unexpected violation %s (%d %s)", v, v.Status, v.Code)
				}
				return
			}
			if len(vs) != 1 {
				t.Fatalf("got %d violations %v, want exactly one %s", len(vs), vs, tt.rule)
			}
			v := vs[0]
			assert.Equal(t, v.Rule, tt.rule, "rule")
			assert.Equal(t, v.Status, tt.status, "status")
			assert.Equal(t, v.Code, tt.code, "code")
			if v.Message == "" || v.Section == "" {
				t.Errorf("violation %s lacks message or section", v.Rule)
			}
			e := v.Err()
			assert.Equal(t, e.HTTPStatus(), tt.status, "Err().HTTPStatus()")
			assert.Equal(t, e.Code, tt.code, "Err().Code")
		})
	}
}

// TestValidateReportsEveryViolation checks Validate keeps going after a
// readable token's first broken rule, in the order of Rules.
func TestValidateReportsEveryViolation(t *testing.T) {
	t.Parallel()
	h := mutate(t, func(c map[string]any) {
		c["exp"] = now.Unix() - 1
		c["reason_for_request"] = "migration"
		c["sub"] = "someone-else"
		resource(c, "requesting_device")["resourceType"] = "Device2"
	})
	var got []string
	for _, v := range jwt.Validate(h, metadata) {
		got = append(got, v.Rule)
	}
	want := []string{"JWT_EXP_NOT_IAT_PLUS_300", "JWT_EXPIRED", "JWT_REASON_NOT_DIRECTCARE", "JWT_DEVICE_INVALID", "JWT_SUB_NOT_PRACTITIONER_ID"}
	assert.DeepEqual(t, got, want, "rules")
}

func TestValidateEmptyDiagnosticsNamesClaim(t *testing.T) {
	t.Parallel()
	vs := jwt.Validate(mutate(t, func(c map[string]any) { c["aud"] = nil }), metadata)
	if len(vs) != 1 {
		t.Fatalf("violations = %v, want one", vs)
	}
	assert.Contains(t, vs[0].Message, "Empty JWT aud claim", "message")
}

// TestEveryRuleIsExercised guards the conformance table: each rule in Rules
// must be reachable.
func TestEveryRuleIsExercised(t *testing.T) {
	t.Parallel()
	hit := map[string]bool{}
	headers := []string{
		"", "Basic x", "Bearer a", "Bearer a+b.c.", "Bearer " + build(t) + "x",
		"Bearer " + encode(t, `{"alg":"HS256","typ":"JWT"}`, claimsOf(t, build(t))),
		"Bearer " + base64.RawURLEncoding.EncodeToString([]byte(goodHeader)) + "." + base64.RawURLEncoding.EncodeToString([]byte(`1`)) + ".",
		mutate(t, func(c map[string]any) {
			delete(c, "iss")
			c["iat"] = "x"
			c["requested_record"] = 1
			c["exp"] = now.Unix() - 1
			c["requested_scope"] = "x"
			c["reason_for_request"] = "x"
			c["aud"] = "x"
			resource(c, "requesting_device")["resourceType"] = "x"
			resource(c, "requesting_organization")["resourceType"] = "x"
			resource(c, "requesting_practitioner")["resourceType"] = "x"
		}),
		mutate(t, func(c map[string]any) {
			c["iat"] = now.Unix() - 1
			c["requested_scope"] = "patient/*.write"
			c["sub"] = "x"
			delete(resource(c, "requesting_device"), "model")
			delete(resource(c, "requesting_organization"), "name")
			delete(resource(c, "requesting_practitioner"), "name")
		}),
	}
	for _, h := range headers {
		for _, v := range jwt.Validate(h, metadata) {
			hit[v.Rule] = true
		}
	}
	for _, r := range jwt.Rules {
		if !hit[r.Name] {
			t.Errorf("rule %s never fired", r.Name)
		}
	}
}

// FuzzValidate proves Validate never panics and always returns violations
// drawn from Rules.
func FuzzValidate(f *testing.F) {
	f.Add("Bearer " + build(f))
	f.Add("")
	f.Add("Bearer ..")
	f.Add("Bearer e30.e30.")
	f.Add("Bearer eyJhbGciOiJub25lIn0.bnVsbA.")
	f.Fuzz(func(t *testing.T, header string) {
		for _, v := range jwt.Validate(header, metadata) {
			r, ok := jwt.RuleByName(v.Rule)
			if !ok {
				t.Fatalf("violation of unknown rule %q", v.Rule)
			}
			if r.Status != v.Status || r.Code != v.Code {
				t.Fatalf("violation %s has %d %s, rule says %d %s", v.Rule, v.Status, v.Code, r.Status, r.Code)
			}
		}
		if c, err := jwt.Parse(strings.TrimPrefix(header, "Bearer ")); err == nil && c == nil {
			t.Fatal("Parse returned nil claims and nil error")
		}
	})
}

// TestValidateRawPayload judges payloads written by hand, where a decoder's
// reading of the JSON text matters: escapes, duplicate names, names in
// another case.
func TestValidateRawPayload(t *testing.T) {
	t.Parallel()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(build(t), ".")[1])
	assert.NilError(t, err)
	built := string(b)
	tests := []struct {
		name, old, new, rule string
	}{
		{"an escaped claim is read unescaped", `"reason_for_request":"directcare"`, `"reason_for_request":"direct\u0063are"`, ""},
		{"an escaped claim is judged unescaped", `"reason_for_request":"directcare"`, `"reason_for_request":"direct\u0063are\n"`, "JWT_REASON_NOT_DIRECTCARE"},
		{"whitespace around values", `"exp":`, "\"exp\" :\n ", ""},
		// RFC 7519 §4: a JWT parser may reject duplicate claim names; which
		// of two would count is up to the parser.
		{"a duplicate claim name", `"iss":`, `"iss":"https://elsewhere.test","iss":`, "JWT_PAYLOAD_NOT_JSON"},
		{"a duplicate name inside a claim", `"model":`, `"model":"x","model":`, "JWT_PAYLOAD_NOT_JSON"},
		// encoding/json matched names in any case; an element inside a
		// resource's Identifier still does.
		{"an identifier element in another case", `"Device","identifier":[{"system":`, `"Device","identifier":[{"System":`, ""},
		{"a resource element in another case is unknown", `"model":`, `"Model":`, "JWT_DEVICE_INVALID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if !strings.Contains(built, tt.old) {
				t.Fatalf("built payload lacks %s", tt.old)
			}
			p := strings.Replace(built, tt.old, tt.new, 1)
			h := "Bearer " + base64.RawURLEncoding.EncodeToString([]byte(goodHeader)) + "." + base64.RawURLEncoding.EncodeToString([]byte(p)) + "."
			var got []string
			for _, v := range jwt.Validate(h, metadata) {
				got = append(got, v.Rule)
			}
			var want []string
			if tt.rule != "" {
				want = []string{tt.rule}
			}
			assert.DeepEqual(t, got, want, "rules")
		})
	}
}
