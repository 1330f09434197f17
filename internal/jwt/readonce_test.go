package jwt_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/jwt"
)

// TestValidateOneTokenManyExpectations: a token is read once and kept, so
// the SSP's judgement and the provider's share the reading; what depends
// on the receiver's expectation is still judged per call, in the order of
// Rules, whichever expectation came first.
func TestValidateOneTokenManyExpectations(t *testing.T) {
	t.Parallel()
	h := mutate(t, func(c map[string]any) {
		c["exp"] = now.Unix() - 1 // also breaks exp = iat + 300
		c["reason_for_request"] = "migration"
		c["requested_scope"] = string(gpc.PatientRead)
		c["sub"] = "someone-else"
	})
	rules := func(want jwt.Expect) []string {
		var got []string
		for _, v := range jwt.Validate(h, want) {
			got = append(got, v.Rule)
		}
		return got
	}
	lenient := jwt.Expect{}
	strict := metadata // organization/*.read, aud checked, now
	for range 2 {
		assert.DeepEqual(t, rules(lenient), []string{"JWT_EXP_NOT_IAT_PLUS_300", "JWT_REASON_NOT_DIRECTCARE", "JWT_SUB_NOT_PRACTITIONER_ID"}, "lenient")
		assert.DeepEqual(t, rules(strict), []string{"JWT_EXP_NOT_IAT_PLUS_300", "JWT_EXPIRED", "JWT_REASON_NOT_DIRECTCARE",
			"JWT_SCOPE_WRONG_FOR_INTERACTION", "JWT_SUB_NOT_PRACTITIONER_ID"}, "strict")
		other := strict
		other.Audience = "https://elsewhere.example/STU3/1/gpconnect"
		other.Now = time.Unix(now.Unix()-3600, 0)
		assert.DeepEqual(t, rules(other), []string{"JWT_EXP_NOT_IAT_PLUS_300", "JWT_REASON_NOT_DIRECTCARE",
			"JWT_SCOPE_WRONG_FOR_INTERACTION", "JWT_AUD_NOT_SERVICE_ROOT", "JWT_SUB_NOT_PRACTITIONER_ID"}, "other audience, earlier now")
	}
	// A caller changing its answer does not change the next caller's.
	vs := jwt.Validate(h, strict)
	vs[0].Rule = "CHANGED"
	assert.Equal(t, jwt.Validate(h, strict)[0].Rule, "JWT_EXP_NOT_IAT_PLUS_300", "kept reading unchanged")
}

// TestValidateStoreBounded: reading many distinct tokens keeps at most
// the limit.
func TestValidateStoreBounded(t *testing.T) {
	for i := range 3 * jwt.MaxReadTokens {
		jwt.Validate("Bearer x"+strconv.Itoa(i)+".y.", jwt.Expect{})
		if n := jwt.ReadTokens(); n > jwt.MaxReadTokens {
			t.Fatalf("%d tokens kept after %d, limit %d", n, i+1, jwt.MaxReadTokens)
		}
	}
}

// TestValidateAlternatingTokens: two tokens of the same length, judged in
// turns, each get their own reading — the last one read is not taken for
// the other.
func TestValidateAlternatingTokens(t *testing.T) {
	t.Parallel()
	good := mutate(t, func(map[string]any) {})
	bad := mutate(t, func(c map[string]any) { c["reason_for_request"] = "directcarX" })
	if len(good) != len(bad) {
		t.Fatalf("tokens of %d and %d bytes, want the same length", len(good), len(bad))
	}
	for range 3 {
		assert.Equal(t, len(jwt.Validate(good, metadata)), 0, "the valid token's violations")
		vs := jwt.Validate(bad, metadata)
		if len(vs) != 1 || vs[0].Rule != jwt.RuleReasonNotDirectCare {
			t.Fatalf("the other token's violations: %v, want JWT_REASON_NOT_DIRECTCARE alone", vs)
		}
	}
}

// TestResourcesJudgedOnceLikeAfresh: a claim resource judged before is
// judged as it was — the same violations, in the same place among the
// token's, and the same practitioner id for the sub rule — in a token
// that is otherwise new (another iat), whichever resources are broken.
func TestResourcesJudgedOnceLikeAfresh(t *testing.T) {
	cases := map[string]func(c map[string]any){
		"valid":                         func(c map[string]any) {},
		"device without model":          func(c map[string]any) { delete(resource(c, "requesting_device"), "model") },
		"device of another type":        func(c map[string]any) { resource(c, "requesting_device")["resourceType"] = "Patient" },
		"device not an object":          func(c map[string]any) { c["requesting_device"] = "Device/1" },
		"organization without name":     func(c map[string]any) { delete(resource(c, "requesting_organization"), "name") },
		"organization with a list name": func(c map[string]any) { resource(c, "requesting_organization")["name"] = []any{"x"} },
		"practitioner of another id":    func(c map[string]any) { resource(c, "requesting_practitioner")["id"] = "someone-else" },
		"practitioner with an unknown element and no family": func(c map[string]any) {
			p := resource(c, "requesting_practitioner")
			p["invalidField"] = "x"
			p["name"] = []any{map[string]any{"given": []any{"Amara"}}}
		},
		"everything broken at once": func(c map[string]any) {
			delete(resource(c, "requesting_device"), "version")
			delete(resource(c, "requesting_organization"), "identifier")
			resource(c, "requesting_practitioner")["name"] = []any{map[string]any{"family": "Okafor"}}
			c["reason_for_request"] = "migration"
		},
	}
	at := func(f func(c map[string]any), shift int64) string {
		return mutate(t, func(c map[string]any) {
			f(c)
			c["iat"] = now.Unix() + shift
			c["exp"] = now.Unix() + shift + 300
		})
	}
	for name, f := range cases {
		jwt.ForgetJudgedResources()
		afresh := jwt.Validate(at(f, 1), metadata)
		if n, _ := jwt.JudgedResources(); n == 0 {
			t.Fatalf("%s: no resource kept", name)
		}
		again := jwt.Validate(at(f, 2), metadata) // another token, the same resources
		assert.DeepEqual(t, again, afresh, name)
		jwt.ForgetJudgedResources()
		assert.DeepEqual(t, jwt.Validate(at(f, 3), metadata), afresh, name+", judged afresh again")
	}
}

// TestJudgedResourcesBounded: judging many distinct resources keeps at
// most the limit per claim.
func TestJudgedResourcesBounded(t *testing.T) {
	jwt.ForgetJudgedResources()
	for i := range 2 * jwt.MaxJudgedResources {
		jwt.Validate(mutate(t, func(c map[string]any) { resource(c, "requesting_device")["version"] = strconv.Itoa(i) }), jwt.Expect{})
		if _, n := jwt.JudgedResources(); n > jwt.MaxJudgedResources {
			t.Fatalf("%d resources of one claim kept after %d tokens, limit %d", n, i+1, jwt.MaxJudgedResources)
		}
	}
}
