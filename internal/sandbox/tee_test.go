package sandbox

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
)

// TestTeeWriterBuffersAtMostItsLimit: the journal's copy of a response is
// at most BodyKept however much the mock writes, while the client gets
// every byte and the hop knows the whole size.
func TestTeeWriterBuffersAtMostItsLimit(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	tee := &teeWriter{ResponseWriter: rec, limit: 10}
	for _, chunk := range []string{"0123", "456789abcdef", "ghij"} {
		n, err := tee.Write([]byte(chunk))
		assert.NilError(t, err)
		assert.Equal(t, n, len(chunk), "written")
	}
	assert.Equal(t, tee.body.String(), "0123456789", "kept")
	assert.Equal(t, tee.size, int64(20), "size")
	assert.Equal(t, rec.Body.String(), "0123456789abcdefghij", "passed through")
	big := strings.Repeat("x", 1<<20)
	_, _ = tee.Write([]byte(big))
	assert.Equal(t, tee.body.Cap() < 1<<10, true, "buffer stays small after a 1 MiB write")
}
