package sds

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/spine-sandbox/spine-sandbox/internal/world"
)

// An SDS answer depends on the world's practices and consumer — which no
// rule changes, so every world made from one template (world.Template)
// answers a search alike — and on two things of its own: the session's
// base URL (service roots, fullUrls, the self link) and the Bundle's random
// id. So an answer is encoded once per template with marks in their
// places and each request fills them in (answer.appendTo), instead of
// building and indenting the same searchset again for every session.

// maxAnswers and maxAnswerBytes bound the encoded answers kept per
// template; past either the store starts afresh, and an answer over a
// quarter of the bytes is not kept. A journey asks a handful of searches of
// a few KB; the key holds the raw query, so odd spellings of one search
// each take a place.
const (
	maxAnswers     = 64
	maxAnswerBytes = 512 << 10
)

// baseMark and idMark stand for the base URL and the Bundle id in an
// encoded answer: random per process, made only of characters JSON writes
// as they are, and never in a world's data.
var baseMark, idMark = randomMark("base"), randomMark("id")

func randomMark(what string) string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return "spine-sandbox-" + what + "-" + hex.EncodeToString(b)
}

// answerKey is everything an encoded answer depends on besides the
// template: the search path, its query as written (the self link
// repeats it), and the media type answered with.
type answerKey struct {
	path, rawQuery, contentType string
}

// answer is an encoded searchset split at its marks: parts[i] is followed
// by the base URL when holes[i] is 'b', by the Bundle id when 'i'.
type answer struct {
	parts []string
	holes []byte
	size  int
}

// splitAnswer splits an encoded answer at its marks.
func splitAnswer(body []byte) *answer {
	a := &answer{}
	s := string(body)
	for {
		b, i := strings.Index(s, baseMark), strings.Index(s, idMark)
		if b < 0 && i < 0 {
			a.parts = append(a.parts, s)
			a.size += len(s)
			return a
		}
		at, mark, hole := b, baseMark, byte('b')
		if b < 0 || (i >= 0 && i < b) {
			at, mark, hole = i, idMark, 'i'
		}
		a.parts = append(a.parts, s[:at])
		a.holes = append(a.holes, hole)
		a.size += at
		s = s[at+len(mark):]
	}
}

// appendTo appends the answer, its marks filled in with base and id, to
// out.
func (a *answer) appendTo(out []byte, base, id string) []byte {
	n := a.size
	for _, h := range a.holes {
		if h == 'b' {
			n += len(base)
		} else {
			n += len(id)
		}
	}
	out = slices.Grow(out, n)
	for i, p := range a.parts {
		out = append(out, p...)
		if i < len(a.holes) {
			if a.holes[i] == 'b' {
				out = append(out, base...)
			} else {
				out = append(out, id...)
			}
		}
	}
	return out
}

// answersKey is the key of a template's answers (world.Template.Shared).
type answersKey struct{}

// plainJSON reports whether JSON writes s as it is (with SetEscapeHTML
// false): a base URL that would be escaped is not filled into an answer
// but encoded with it.
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// writeSearch answers a search whose parameters and media type were
// accepted with the searchset of entries, found for the server it is
// given: from the template's encoded answers when it can, else encoded
// for this request alone.
func (s *server) writeSearch(rw http.ResponseWriter, r *request, contentType string, entries func(*server) ([]fhir.BundleEntry, error)) error {
	base := s.world.BaseURL()
	t := s.world.Template()
	if t == nil || s.direct || !plainJSON(base) {
		es, err := entries(s)
		if err != nil {
			return err
		}
		return s.writeJSON(rw, r, contentType, s.searchset(r.Request, newUUID(), es))
	}
	store := t.Shared(answersKey{}, func() any { return world.NewStore[answerKey, *answer](maxAnswers, maxAnswerBytes) }).(*world.Store[answerKey, *answer])
	k := answerKey{path: r.URL.Path, rawQuery: r.URL.RawQuery, contentType: contentType}
	a, ok := store.Get(k)
	if !ok {
		marked := &server{world: s.world.At(baseMark), base: baseMark + BasePath}
		es, err := entries(marked)
		if err != nil {
			return err
		}
		body, err := marshal(marked.searchset(r.Request, idMark, es), "  ")
		if err != nil {
			return err
		}
		a = splitAnswer(body)
		store.Put(k, a, a.size)
	}
	// The answer is written from a pooled buffer: a ResponseWriter does not
	// keep what it is given (io.Writer), so the buffer is free once
	// written.
	buf := renderBufs.Get().(*[]byte)
	*buf = a.appendTo((*buf)[:0], base, newUUID())
	s.writeOK(rw, r, contentType, *buf)
	if cap(*buf) <= maxAnswerBytes {
		renderBufs.Put(buf)
	}
	return nil
}

// renderBufs are the buffers answers are rendered into for writing.
var renderBufs = sync.Pool{New: func() any { return new([]byte) }}
