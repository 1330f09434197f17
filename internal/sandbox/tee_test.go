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

// TestKeptWrites: bytes written by WriteKept first are kept themselves by
// a hop's tee and by a recorder, and handed on to be kept; anything
// written after makes both keep a copy of all of it, never writing into
// the kept array; kept bytes written later are copied like any others.
func TestKeptWrites(t *testing.T) {
	t.Parallel()
	answer := []byte("0123456789abcdef")[:10:16] // spare capacity nobody may write into
	tail := string(answer[:16][10:])
	for _, tt := range []struct {
		name   string
		writes []string // "kept" or text written by Write
		limit  int
		want   string // kept by the tee
		shared bool   // the tee and the recorder keep answer itself
		into   bool   // the tee's writer is its recorder (journalHop's in-process and Direct hops)
	}{
		{"kept alone", []string{"kept"}, 64, "0123456789", true, false},
		{"kept, clipped", []string{"kept"}, 4, "0123", true, false},
		{"kept, then more", []string{"kept", "XYZ"}, 64, "0123456789XYZ", false, false},
		{"kept, then more, clipped", []string{"kept", "XYZ"}, 12, "0123456789XY", false, false},
		{"more, then kept", []string{"XYZ", "kept"}, 64, "XYZ0123456789", false, false},
		{"kept twice", []string{"kept", "kept"}, 64, "01234567890123456789", false, false},
		{"into its recorder: kept alone", []string{"kept"}, 64, "0123456789", true, true},
		{"into its recorder: kept, clipped", []string{"kept"}, 4, "0123", true, true},
		{"into its recorder: kept, then more", []string{"kept", "XYZ"}, 64, "0123456789XYZ", false, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder()
			tee := &teeWriter{ResponseWriter: rec, limit: tt.limit}
			if tt.into {
				tee.into = rec
			}
			all := ""
			for _, w := range tt.writes {
				var n int
				var err error
				if w == "kept" {
					n, err = tee.WriteKept(answer)
					w = string(answer)
				} else {
					n, err = tee.Write([]byte(w))
				}
				assert.NilError(t, err)
				assert.Equal(t, n, len(w), "written")
				all += w
			}
			got, given := tee.kept()
			assert.Equal(t, string(got), tt.want, "the tee keeps")
			assert.Equal(t, given, true, "given to the journal")
			assert.Equal(t, tee.size, int64(len(all)), "size")
			assert.Equal(t, string(rec.bytes()), all, "the recorder got")
			assert.Equal(t, len(got) > 0 && &got[0] == &answer[0], tt.shared, "the tee keeps the answer itself")
			assert.Equal(t, &rec.bytes()[0] == &answer[0], tt.shared, "the recorder keeps the answer itself")
			assert.Equal(t, string(answer[:16][10:]), tail, "the answer's spare capacity")
			res := rec.response(nil)
			b := make([]byte, 64)
			n, _ := res.Body.Read(b)
			assert.Equal(t, string(b[:n]), all, "the recorder's response")
			assert.Equal(t, res.ContentLength, int64(len(all)), "Content-Length")
		})
	}
}
