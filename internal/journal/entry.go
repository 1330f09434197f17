package journal

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"unsafe"
)

// entry is a hop as the journal keeps it: meta without bodies, with its
// headers and texts clipped, and the bodies as received.
type entry struct {
	meta     Hop
	req, res Body
	size     int64 // accounted bytes (sizeOf), less owed
	// owed is how many bytes of res are an older entry's (RecordRelay),
	// which that entry accounts for while it is kept; when it goes, this
	// entry takes them into its size (drop).
	owed int64
	// sharer is the Seq of the newer entry that owes this one's response
	// bytes, if any.
	sharer int64
	// reqLess are keys of meta.RequestHeader, a map another hop keeps too,
	// that this hop was not sent with (Hop.RequestHeaderAdded): left out
	// when the entry is first read (unshare).
	reqLess []string
}

// unshare gives the entry a request header map of its own without the
// keys it was not sent with, once, when it is first read: a hop read is
// the hop as sent. Its accounted size already leaves them out (compact).
func (e *entry) unshare() {
	if e.reqLess == nil {
		return
	}
	e.meta.RequestHeader = without(e.meta.RequestHeader, e.reqLess)
	e.reqLess = nil
}

// without is a copy of h less the keys less; the values are h's, which
// nobody changes.
func without(h http.Header, less []string) http.Header {
	out := make(http.Header, len(h))
	for k, vs := range h {
		if !slices.Contains(less, k) {
			out[k] = vs
		}
	}
	return out
}

// The accounting's fixed costs, a rough count of what Go spends besides the
// bytes themselves: the entry, a header map's entry with its slice, a
// string's header, a verdict.
const (
	entryCost   = int64(unsafe.Sizeof(entry{})) + 64
	headerCost  = 64
	stringCost  = 16
	verdictCost = int64(unsafe.Sizeof(Verdict{}))
)

// given is what of a hop's the journal may keep as the caller gave it
// rather than copy: header maps nobody changes after (they are still
// clipped, in a copy, when over their share of Limits.Header), and the
// response the newest hop kept, shared when this hop's is the same.
type given struct {
	reqHeader, resHeader bool
	prior                []byte      // the newest hop's kept response body
	priorHeader          http.Header // the newest hop's kept response headers
}

// compact makes the entry Record keeps: clipped and copied, so that it
// holds on to nothing of the caller's but what g gives. A request or
// response header given is kept as it is unless it must be clipped; a
// response whose headers equal g.priorHeader keeps that map; a response
// that is g.prior's bytes shares them, and the entry owes them (owed)
// rather than accounting for them twice.
func compact(h Hop, req, res Body, l Limits, g given) entry {
	h.RequestBody, h.ResponseBody = "", ""
	h.URL = clipString(h.URL, l.Header)
	h.Interaction = clipString(h.Interaction, l.Header)
	h.Name = clipString(h.Name, l.Header)
	h.Fault = clipString(h.Fault, l.Header)
	h.Error = clipString(h.Error, l.Header)
	h.Code = clipString(h.Code, l.Header)
	if len(h.Checks) > 0 {
		checks := make([]Verdict, len(h.Checks))
		for i, v := range h.Checks {
			v.Message = clipString(v.Message, l.Header)
			v.Diff = clipString(v.Diff, l.Body)
			checks[i] = v
		}
		h.Checks = checks
	}
	var cut int
	resGiven := g.resHeader
	if g.priorHeader != nil && sameHeader(h.ResponseHeader, g.priorHeader) {
		h.ResponseHeader, resGiven = g.priorHeader, true // the journal's own, which it never changes
	}
	reqGiven := g.reqHeader
	less := h.RequestHeaderAdded
	h.RequestHeaderAdded = nil
	reqRaw, reqCost := headerSizes(h.RequestHeader)
	resRaw, resCost := headerSizes(h.ResponseHeader)
	if len(less) > 0 {
		// The hop's request is the map less the keys added after it came:
		// sized so, and copied so when it is to be copied or clipped;
		// otherwise the entry keeps the map and leaves them out when read.
		for _, k := range less {
			if vs, ok := h.RequestHeader[k]; ok {
				r, c := keySizes(k, vs)
				reqRaw, reqCost = reqRaw-r, reqCost-c
			}
		}
		if !reqGiven || reqRaw+resRaw > l.Header {
			h.RequestHeader, reqGiven, less = without(h.RequestHeader, less), true, nil
		}
	}
	var reqCut, resCut int
	h.RequestHeader, h.ResponseHeader, reqCut, resCut = clipSized(h.RequestHeader, h.ResponseHeader, reqRaw, resRaw, l.Header, reqGiven, resGiven)
	if reqCut > 0 { // a copy that fits is the same size; a clipped one is not
		reqCost = headerSize(h.RequestHeader)
	}
	if resCut > 0 {
		resCost = headerSize(h.ResponseHeader)
	}
	cut = reqCut + resCut
	h.HeadersCut += cut
	e := entry{meta: h, req: keepBody(req, l.Body, nil), res: keepBody(res, l.Body, g.prior), reqLess: less}
	e.size = sizeWith(&e, reqCost+resCost)
	if over := e.size - l.Bytes; over > 0 {
		// One hop larger than the whole journal: clip its bodies (the
		// response's first) so that the newest hop is still there.
		e.res = shrink(e.res, &over)
		e.req = shrink(e.req, &over)
		e.size = sizeWith(&e, reqCost+resCost)
	}
	if sameArray(e.res.Data, g.prior) {
		e.owed = int64(len(e.res.Data))
		e.size -= e.owed
	}
	return e
}

// keepBody copies at most limit bytes of b, unless they are prior's (the
// journal's own bytes, which it never changes, are shared) or b is Given
// and its array little larger than what is kept.
func keepBody(b Body, limit int, prior []byte) Body {
	if b.Size < int64(len(b.Data)) {
		b.Size = int64(len(b.Data))
	}
	n := min(len(b.Data), limit)
	switch {
	case n == 0:
		b.Data = nil
	case bytes.Equal(b.Data[:n], prior):
		b.Data = prior[:n:n]
	case b.Given && cap(b.Data) <= n+n/4:
		b.Data = b.Data[:n:n]
	default:
		b.Data = bytes.Clone(b.Data[:n])
	}
	b.Given = false
	return b
}

// shrink takes up to *over bytes off the end of b's data.
func shrink(b Body, over *int64) Body {
	n := int64(len(b.Data)) - *over
	if n < 0 {
		n = 0
	}
	*over -= int64(len(b.Data)) - n
	b.Data = b.Data[:n:n]
	return b
}

// sizeOf is an entry's accounted size.
func sizeOf(e *entry) int64 {
	req := e.meta.RequestHeader
	if e.reqLess != nil {
		req = without(req, e.reqLess)
	}
	return sizeWith(e, headerSize(req)+headerSize(e.meta.ResponseHeader))
}

// sizeWith is sizeOf with its headers' accounted size known (headerSizes).
func sizeWith(e *entry, headers int64) int64 {
	h := &e.meta
	n := entryCost + int64(len(e.req.Data)+len(e.res.Data)+len(e.req.Encoding)+len(e.res.Encoding))
	for _, s := range []string{h.Step, h.ReplyStep, h.Interaction, h.Name, h.Method, h.URL, h.Code, h.Fault, h.Error} {
		n += int64(len(s))
	}
	n += headers
	for _, v := range h.Checks {
		n += verdictCost + int64(len(v.Check)+len(v.Severity)+len(v.Section)+len(v.Message)+len(v.Diff))
	}
	return n
}

// headerSizes is rawSize and headerSize in one pass over h.
func headerSizes(h http.Header) (raw int, cost int64) {
	for k, vs := range h {
		r, c := keySizes(k, vs)
		raw, cost = raw+r, cost+c
	}
	return raw, cost
}

// keySizes is one key's share of headerSizes.
func keySizes(k string, vs []string) (raw int, cost int64) {
	cost = headerCost + int64(len(k))
	for _, v := range vs {
		raw += len(k) + len(v)
		cost += stringCost + int64(len(v))
	}
	return raw, cost
}

func headerSize(h http.Header) int64 {
	_, cost := headerSizes(h)
	return cost
}

// clipString keeps at most limit bytes of s (cut at a UTF-8 boundary) and
// the Truncated mark, in a copy: a substring would keep all of s alive.
func clipString(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	return strings.Clone(s[:utf8Cut(s, limit)]) + Truncated
}

// utf8Cut is the largest n <= limit that does not split a UTF-8 sequence.
func utf8Cut(s string, limit int) int {
	n := limit
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return n
}

// headerItem is one header value, for clipHeaders.
type headerItem struct {
	key   string
	value string
	cost  int
}

// ClipHeaders copies req and res within budget bytes of names and values
// in all, and reports how many bytes it left out. Each side may use half
// the budget, and what one does not need the other may use. Within a side
// the smallest values are kept first, so one huge header is clipped rather
// than crowding out the ordinary ones; a clipped value ends in Truncated.
func ClipHeaders(req, res http.Header, budget int) (http.Header, http.Header, int) {
	return clipHeaders(req, res, budget, false, false)
}

// clipHeaders is ClipHeaders; when reqGiven (resGiven), req (res) is a map
// nobody changes after and is kept as it is when it fits its share:
// clipping a header that fits copies it and changes nothing else.
func clipHeaders(req, res http.Header, budget int, reqGiven, resGiven bool) (http.Header, http.Header, int) {
	reqOut, resOut, reqCut, resCut := clipSized(req, res, rawSize(req), rawSize(res), budget, reqGiven, resGiven)
	return reqOut, resOut, reqCut + resCut
}

// clipSized is clipHeaders with the headers' raw sizes known, reporting
// each side's cut.
func clipSized(req, res http.Header, reqSize, resSize, budget int, reqGiven, resGiven bool) (http.Header, http.Header, int, int) {
	reqBudget, resBudget := reqSize, resSize
	if reqSize+resSize > budget {
		half := budget / 2
		switch {
		case reqSize <= half:
			resBudget = budget - reqSize
		case resSize <= half:
			reqBudget = budget - resSize
		default:
			reqBudget, resBudget = half, budget-half
		}
	}
	reqOut, reqCut := req, 0
	if !reqGiven || reqSize > reqBudget {
		reqOut, reqCut = ClipHeader(req, reqBudget)
	}
	resOut, resCut := res, 0
	if !resGiven || resSize > resBudget {
		resOut, resCut = ClipHeader(res, resBudget)
	}
	return reqOut, resOut, reqCut, resCut
}

// sameHeader reports whether a and b hold the same keys with the same
// values in the same order: at once when they are one map (the SSP's hop
// and the provider's it served straight into its answer).
func sameHeader(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) > 0 && reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer() {
		return true
	}
	for k, va := range a {
		vb, ok := b[k]
		if !ok || len(va) != len(vb) || (va == nil) != (vb == nil) {
			return false
		}
		for i := range va {
			if va[i] != vb[i] {
				return false
			}
		}
	}
	return true
}

func rawSize(h http.Header) int {
	raw, _ := headerSizes(h)
	return raw
}

// TakeHeader is ClipHeader for a header map nobody changes after (the
// sandbox's own copy of a request it forwards in process): kept as it is
// when it fits budget, clipped in a copy when it does not.
func TakeHeader(h http.Header, budget int) (http.Header, int) {
	if rawSize(h) <= budget {
		return h, 0
	}
	return ClipHeader(h, budget)
}

// ClipHeader copies h within budget bytes of names and values, the
// smallest values first, and reports how many bytes it left out. A caller
// that must take a header before Record (a request's, before a handler may
// change it) uses it so as not to copy a huge one whole.
func ClipHeader(h http.Header, budget int) (http.Header, int) {
	if h == nil {
		return nil, 0
	}
	out := make(http.Header, len(h))
	if rawSize(h) <= budget {
		// One array for the values, made for one per key: a header is a
		// dozen keys of one value. A key with more grows it, which the
		// keys already copied do not notice (each slice is full).
		all := make([]string, 0, len(h))
		for k, vs := range h {
			if len(vs) == 0 {
				out[k] = nil // as a copy of none is
				continue
			}
			all = append(all, vs...)
			out[k] = all[len(all)-len(vs) : len(all) : len(all)]
		}
		return out, 0
	}
	var items []headerItem
	for k, vs := range h {
		for _, v := range vs {
			items = append(items, headerItem{k, v, len(k) + len(v)})
		}
	}
	sort.SliceStable(items, func(i, j int) bool {
		if items[i].cost != items[j].cost {
			return items[i].cost < items[j].cost
		}
		return items[i].key < items[j].key
	})
	cut := 0
	for _, it := range items {
		switch {
		case it.cost <= budget:
			out[it.key] = append(out[it.key], it.value)
			budget -= it.cost
		case budget > len(it.key)+len(Truncated):
			keep := utf8Cut(it.value, budget-len(it.key)-len(Truncated))
			out[it.key] = append(out[it.key], strings.Clone(it.value[:keep])+Truncated)
			cut += len(it.value) - keep
			budget = 0
		default:
			cut += it.cost
		}
	}
	return out, cut
}

// Decode returns b's data as text: uncompressed when it is gzip, at most
// limit bytes, ending in Truncated when the body was clipped when recorded
// or decodes to more than limit. A body that does not decode is shown as it
// came. The result may share b.Data's array: callers must not change it.
func Decode(b Body, limit int) []byte {
	clipped := b.Size > int64(len(b.Data))
	out := b.Data
	if strings.EqualFold(b.Encoding, "gzip") && len(b.Data) > 0 {
		if d, ok := gunzip(b.Data, limit, clipped); ok {
			out = d
		}
	}
	if len(out) > limit {
		out, clipped = out[:limit], true
	}
	if !clipped {
		return out
	}
	return append(out[:len(out):len(out)], Truncated...)
}

// text returns a decoded body as a string without copying it: b is an
// entry's body, whose bytes the journal never changes once kept (keepBody
// copies them in, or shares another entry's), and a decoded body is a
// buffer nobody else holds. A gzip body's text is kept (texts): sessions
// made from one scenario record the same compressed answers hop after hop,
// and each would otherwise decode them again.
func text(b Body, limit int) string {
	gz := strings.EqualFold(b.Encoding, "gzip") && len(b.Data) > 0
	clipped := b.Size > int64(len(b.Data))
	if gz {
		if t, ok := texts.get(b.Data, limit, clipped); ok {
			return t
		}
	}
	out := Decode(b, limit)
	if len(out) == 0 {
		return ""
	}
	t := unsafe.String(&out[0], len(out))
	if gz {
		texts.put(b.Data, limit, clipped, t)
	}
	return t
}

// maxTexts bounds the decoded texts kept process-wide: at most
// maxTexts × (Limits.Body + the compressed data), 2 × 64 KiB each with the
// sandbox's limits.
const maxTexts = 32

// texts keeps the text of recently decoded gzip bodies by their compressed
// bytes: decoding is a function of those, the limit and whether the body
// was clipped, so a kept text is never stale.
var texts textStore

type textStore struct {
	mu sync.Mutex
	m  map[string]keptText
}

type keptText struct {
	limit   int
	clipped bool
	text    string
}

func (s *textStore) get(data []byte, limit int, clipped bool) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.m[string(data)]
	if !ok || k.limit != limit || k.clipped != clipped {
		return "", false
	}
	return k.text, true
}

func (s *textStore) put(data []byte, limit int, clipped bool, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil || len(s.m) >= maxTexts {
		s.m = make(map[string]keptText, maxTexts)
	}
	s.m[string(data)] = keptText{limit: limit, clipped: clipped, text: text}
}

func (s *textStore) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

// gunzip decodes gzip data, at most limit+1 bytes (one past the limit
// tells whether there is more), and reports whether it decoded anything to
// show. Unless the data was clipped, its gzip trailer gives the decoded
// size, so the result is read into a buffer of that size at once.
func gunzip(data []byte, limit int, clipped bool) ([]byte, bool) {
	zr := gzipReaders.Get().(*gzip.Reader)
	defer gzipReaders.Put(zr)
	if zr.Reset(bytes.NewReader(data)) != nil {
		return nil, false
	}
	size := 512
	if n := len(data); !clipped && n >= 18 {
		size = int(binary.LittleEndian.Uint32(data[n-4:])) // ISIZE, RFC 1952 §2.3.1
	}
	lr := io.LimitReader(zr, int64(limit)+1)
	d := make([]byte, 0, min(size, limit)+1)
	for {
		if len(d) == cap(d) {
			d = append(d, 0)[:len(d)] // grow: the trailer's size was wrong
		}
		n, err := lr.Read(d[len(d):cap(d)])
		d = d[:len(d)+n]
		if err != nil {
			return d, len(d) > 0 || err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF)
		}
	}
}

// gzipReaders are reused: a gzip reader's state is tens of KB.
var gzipReaders = sync.Pool{New: func() any { return new(gzip.Reader) }}

// View is a hop as the admin API shows it: the Hop, with bodies that are
// JSON objects or arrays given as JSON values and any other body as a
// string (JSONBody).
type View struct {
	Hop
	RequestBody  JSONBody `json:"request_body,omitempty"`
	ResponseBody JSONBody `json:"response_body,omitempty"`
}

// View returns the hop with its bodies decoded, as the admin API shows it.
func (e Entry) View() View {
	return View{
		Hop:          e.e.meta,
		RequestBody:  Decode(e.e.req, e.body),
		ResponseBody: Decode(e.e.res, e.body),
	}
}

// JSONBody is a decoded body that marshals as itself when it is a JSON
// object or array, and as a JSON string otherwise (text, a clipped JSON
// body, HTML, ...), so a reader gets FHIR resources as JSON without
// parsing strings.
type JSONBody []byte

// MarshalJSON implements json.Marshaler.
func (b JSONBody) MarshalJSON() ([]byte, error) {
	if t := bytes.TrimLeft(b, " \t\r\n"); len(t) > 0 && (t[0] == '{' || t[0] == '[') && json.Valid(b) {
		return b, nil
	}
	return json.Marshal(string(b))
}

// UnmarshalJSON implements json.Unmarshaler: a string is the body's text,
// anything else the body itself.
func (b *JSONBody) UnmarshalJSON(data []byte) error {
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		*b = JSONBody(s)
		return nil
	}
	*b = append((*b)[:0], data...)
	return nil
}

// String returns the body's text.
func (b JSONBody) String() string { return string(b) }
