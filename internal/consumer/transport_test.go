package consumer

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
)

// TestReadBody: an answer of known length is read into a buffer of its
// size; any answer, of known length or not, is cut at maxBody.
func TestReadBody(t *testing.T) {
	t.Parallel()
	read := func(length int64, body []byte) []byte {
		b, err := readBody(&http.Response{ContentLength: length, Body: io.NopCloser(bytes.NewReader(body))})
		assert.NilError(t, err)
		return b
	}
	b := read(100, bytes.Repeat([]byte("x"), 100))
	assert.Equal(t, len(b)*1000+cap(b), 100*1000+100, "length and capacity")
	assert.Equal(t, len(read(-1, bytes.Repeat([]byte("x"), 100))), 100, "unknown length")
	big := bytes.Repeat([]byte("x"), maxBody+10)
	assert.Equal(t, len(read(int64(len(big)), big)), maxBody, "a longer answer")
	assert.Equal(t, len(read(-1, big)), maxBody, "a longer answer of unknown length")
	_, err := readBody(&http.Response{ContentLength: 10, Body: io.NopCloser(strings.NewReader("short"))})
	assert.Equal(t, err, io.ErrUnexpectedEOF, "an answer shorter than it says")
}
