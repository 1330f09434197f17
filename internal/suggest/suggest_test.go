package suggest_test

import (
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/suggest"
)

func TestClosest(t *testing.T) {
	names := []string{"happy-path", "deceased", "no-record", "expect", "sequence"}
	for _, tt := range []struct{ word, want string }{
		{"happy-pth", "happy-path"},
		{"Deceasd", "deceased"},
		{"expct", "expect"},
		{"sequnce", "sequence"},
		{"zzz", ""},
		{"", ""},
	} {
		assert.Equal(t, suggest.Closest(tt.word, names), tt.want, tt.word)
	}
	assert.Equal(t, suggest.Hint("expct", names), ` (did you mean "expect"?)`, "hint")
	assert.Equal(t, suggest.Hint("zzz", names), "", "no hint")
}
