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
