package provider

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"slices"
	"sync"

	"github.com/spine-sandbox/spine-sandbox/internal/fhirxml"
	"github.com/spine-sandbox/spine-sandbox/internal/kept"
	"github.com/spine-sandbox/spine-sandbox/internal/world"
)

// maxAnswers bounds the slot-search answers one provider keeps. A consumer
// searches a handful of windows per world version; 16 answers of a
// two-week search (~130 KB plain, a few KB gzipped) stay under about 2 MB
// per session, and under about 7 MB when every one was also asked for in
// XML (about two and a half times the JSON).
const maxAnswers = 16

// answerKey is everything a slot search's answer depends on besides the
// world's slot version: the practice and the parsed search.
type answerKey struct {
	ods                      string
	from, to                 int64 // UnixNano
	consumerODS, orgType     string
	practitioners, locations bool
}

// answer is one encoded searchset (JSON); its gzip, XML and gzipped XML
// forms are each made on first demand and kept with it.
type answer struct {
	plain []byte
	gz    form // gzip of plain

	xmlOnce sync.Once
	xml     []byte
	xmlErr  error
	xmlGz   form // gzip of xml
}

// newAnswer keeps plain, which nobody may change after, as an answer.
func newAnswer(plain []byte) *answer { return &answer{plain: slices.Clip(plain)} }

// form is one lazily made encoding of an answer.
type form struct {
	once sync.Once
	b    []byte
}

// get gzips from once, at the default level rather than gzipWriters'
// BestSpeed: an answer kept is compressed once and decoded by every
// consumer it is sent to, and the default level's output decodes faster
// (a one-week slot search: 41 against 43-58 µs) and is smaller.
func (f *form) get(from []byte) []byte {
	f.once.Do(func() {
		var buf bytes.Buffer
		zw := keptGzipWriters.Get().(*gzip.Writer)
		zw.Reset(&buf)
		_, _ = zw.Write(from)
		_ = zw.Close()
		keptGzipWriters.Put(zw)
		f.b = slices.Clip(buf.Bytes()) // a writer may keep it whole (kept.Write)
	})
	return f.b
}

// keptGzipWriters are get's compressors (see gzipWriters).
var keptGzipWriters = sync.Pool{New: func() any { return gzip.NewWriter(io.Discard) }}

func (a *answer) gzip() []byte { return a.gz.get(a.plain) }

// xmlForm returns the answer in FHIR XML.
func (a *answer) xmlForm() ([]byte, error) {
	a.xmlOnce.Do(func() {
		a.xml, a.xmlErr = fhirxml.JSONToXML(a.plain)
		a.xml = slices.Clip(a.xml)
	})
	return a.xml, a.xmlErr
}

// answers is a store of encoded slot-search answers, valid for one world
// slot version: any change of version empties it, so a booked slot is
// never served from an answer made before the booking. Correctness rests
// on the order in searchSlots: the version is read before the world is,
// so an answer stored under version v describes the world at v or later,
// and a search that starts after a booking returned reads a later version.
type answers struct {
	mu      sync.Mutex
	limit   int // 0 means maxAnswers
	version uint64
	m       map[answerKey]*answer
}

// maxSharedAnswers bounds the answers kept for every world of one template
// (sharedSlots): a journey searches a window or two, and the sandbox keeps
// at most a few dozen templates, so the worst case (two-week plain
// answers) stays near 0.5 MB per template.
const maxSharedAnswers = 4

// sharedSlots are the slot-search answers of a template's pristine worlds
// (world.Template.Shared): computed once from the template's own state,
// served to every session made from it until that session first changes
// its world. A session's own answers stay in its provider's store.
type sharedSlots struct {
	world   *world.World // the template's pristine world
	answers answers
}

// sharedSlotsKey is the key of a template's sharedSlots.
type sharedSlotsKey struct{}

// slotSource is where a slot search reads and keeps its answer: the
// shared store and the template's world while the session's world is
// pristine, else the provider's own store and world at version.
func (s *server) slotSource() (w *world.World, store *answers, version uint64) {
	// The version is read before the world (see answers).
	version = s.world.SlotsVersion()
	if t := s.world.Template(); t != nil && s.world.Pristine() {
		sh := t.Shared(sharedSlotsKey{}, func() any {
			return &sharedSlots{world: t.Pristine(s.world.BaseURL()), answers: answers{limit: maxSharedAnswers}}
		}).(*sharedSlots)
		return sh.world, &sh.answers, 0
	}
	return s.world, &s.slotAnswers, version
}

func (c *answers) get(k answerKey, version uint64) *answer {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.version != version {
		return nil
	}
	return c.m[k]
}

func (c *answers) put(k answerKey, version uint64, a *answer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if version < c.version {
		return // a newer version's answers are already kept
	}
	limit := c.limit
	if limit <= 0 {
		limit = maxAnswers
	}
	if c.m == nil || version != c.version || len(c.m) >= limit {
		c.version, c.m = version, make(map[answerKey]*answer, limit)
	}
	c.m[k] = a
}

func (c *answers) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// writeAnswer writes an encoded answer with writeJSON's headers, in the
// negotiated format, gzipped when the client asks for it, each from the
// answer's kept form.
func writeAnswer(rw http.ResponseWriter, r *http.Request, a *answer) error {
	h := rw.Header()
	ctype, body, gz := contentType, a.plain, &a.gz
	if wantsXML(r) {
		x, err := a.xmlForm()
		if err != nil {
			return err
		}
		ctype, body, gz = contentTypeXML, x, &a.xmlGz
	}
	h.Set("Content-Type", ctype)
	h.Set("Cache-Control", "no-store")
	h.Add("Vary", "Accept-Encoding")
	if acceptsGzip(r) {
		h.Set("Content-Encoding", "gzip")
		body = gz.get(body)
	}
	rw.WriteHeader(http.StatusOK)
	_, _ = kept.Write(rw, body) // a kept form, which never changes
	return nil
}
