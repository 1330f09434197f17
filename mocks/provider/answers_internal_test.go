package provider

import (
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
)

// TestAnswersBounded: the store of slot-search answers never holds more
// than maxAnswers, and an answer is only found at the version it was made
// for; an answer from an older version never replaces newer ones.
func TestAnswersBounded(t *testing.T) {
	var c answers
	for i := range 3 * maxAnswers {
		c.put(answerKey{ods: "A20047", from: int64(i)}, 1, &answer{plain: []byte("x")})
		if c.len() > maxAnswers {
			t.Fatalf("%d answers kept after %d puts, limit %d", c.len(), i+1, maxAnswers)
		}
	}
	k := answerKey{ods: "A20047", from: -1}
	c.put(k, 2, &answer{plain: []byte("v2")})
	assert.Equal(t, c.len(), 1, "a new version empties the store")
	assert.Equal(t, c.get(k, 1) == nil, true, "not found at another version")
	assert.Equal(t, string(c.get(k, 2).plain), "v2", "found at its version")
	c.put(k, 1, &answer{plain: []byte("v1")})
	assert.Equal(t, string(c.get(k, 2).plain), "v2", "an older version's answer is dropped")
}
