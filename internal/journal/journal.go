// Package journal records every hop of a session — who called whom, for
// which step of the booking sequence, with the request, the response and the
// verdict of every conformance check applied — in a log bounded in hops and
// in bytes, safe for concurrent use, that reports, the runner and the live
// sequence diagram read.
//
// A hop is kept compactly: its bodies once, as they went over the wire
// (clipped, still compressed when they were), its headers clipped to a
// budget. Readers get Hop values with decoded bodies, made when they read,
// so the cost of decoding is paid by whoever reads and only for what they
// read (Page).
package journal

import (
	"net/http"
	"sort"
	"sync"
	"time"
)

// Party is one lifeline of the sequence diagram.
type Party string

// The parties.
const (
	Consumer Party = "consumer"
	PDS      Party = "pds"
	SDS      Party = "sds"
	SSP      Party = "ssp"
	Provider Party = "provider"
)

// Verdict is the outcome of one named conformance check on one hop.
type Verdict struct {
	Check    string `json:"check"`
	Passed   bool   `json:"passed"`
	Severity string `json:"severity,omitempty"` // error, warning
	Section  string `json:"section,omitempty"`  // spec section
	Message  string `json:"message,omitempty"`
	Diff     string `json:"diff,omitempty"`
}

// Hop is one request and its response between two parties.
type Hop struct {
	Seq      int64         `json:"seq"`
	Time     time.Time     `json:"time"`
	Duration time.Duration `json:"duration_ns"`
	From     Party         `json:"from"`
	To       Party         `json:"to"`
	// Step is the seed diagram's id of the request arrow (1a, 2a, 2c, 3a,
	// 3b, ...); ReplyStep that of the response arrow (1b, 2b, 2d, 3d, 3c).
	Step      string `json:"step"`
	ReplyStep string `json:"reply_step"`
	// Interaction is the GP Connect interaction ID, or for PDS and SDS a
	// name such as "pds.retrieve".
	Interaction string `json:"interaction"`
	// Name is the short name used in reports: "pds.retrieve",
	// "provider.book appointment".
	Name          string      `json:"name"`
	Method        string      `json:"method"`
	URL           string      `json:"url"`
	Status        int         `json:"status"`
	RequestHeader http.Header `json:"request_header,omitempty"`
	// RequestHeaderAdded, set by a recorder only, names keys of
	// RequestHeader that were put into the map after the hop received it
	// and that it was not sent with: the SSP's forwarding headers, added in
	// place when it forwards to the sandbox's own provider, whose hop keeps
	// the map as it was forwarded. The journal keeps the one map and leaves
	// those keys out of this hop when it is read; a hop read has none.
	RequestHeaderAdded []string `json:"-"`
	// RequestBody and ResponseBody are the bodies decoded (a gzip body is
	// uncompressed), at most Limits.Body bytes of each, ending in
	// Truncated when more was sent or decoded.
	RequestBody    string      `json:"request_body,omitempty"`
	ResponseHeader http.Header `json:"response_header,omitempty"`
	ResponseBody   string      `json:"response_body,omitempty"`
	// HeadersCut is how many bytes of the request and response headers
	// (names and values) were not kept, to respect Limits.Header; a clipped
	// value ends in Truncated.
	HeadersCut int `json:"headers_cut,omitempty"`
	// Code is the Spine/PDS/SDS error code in the response, if any.
	Code   string    `json:"code,omitempty"`
	Fault  string    `json:"fault,omitempty"` // the scenario fault applied, if any
	Error  string    `json:"error,omitempty"` // transport error, if any
	Checks []Verdict `json:"checks,omitempty"`
	// Start is the id Begin gave the hop when its request began (zero for
	// hops recorded complete only, such as LDAP's): the live diagram
	// resolves its in-flight arrow for that start with this hop.
	Start int64 `json:"start,omitempty"`
	// TLS are the connection's TLS facts when the hop came over TLS
	// (serve --tls; tls.go).
	TLS *TLSFacts `json:"tls,omitempty"`
}

// Start is a hop whose request has begun and whose answer is not done yet:
// what the live diagram needs to draw an arrow in flight, never bodies or
// headers.
type Start struct {
	ID     int64     `json:"start"`
	Time   time.Time `json:"time"`
	From   Party     `json:"from"`
	To     Party     `json:"to"`
	Step   string    `json:"step"`
	Name   string    `json:"name"`
	Method string    `json:"method"`
	URL    string    `json:"url"`
}

// MaxInFlight bounds how many started hops a journal remembers until they
// complete; a start over it is numbered but not kept (its hop still is,
// when it completes), so a flood of hung requests costs a fixed amount.
const MaxInFlight = 256

// Failed reports whether any check on the hop failed.
func (h Hop) Failed() bool {
	for _, v := range h.Checks {
		if !v.Passed {
			return true
		}
	}
	return false
}

// Truncated ends a body, header value or text that was clipped.
const Truncated = "…(truncated)"

// The defaults for the zero fields of Limits. The sandbox passes its own
// (sandbox.Limits); these serve other users of the package.
const (
	DefaultLimit  = 5000     // hops
	DefaultBytes  = 8 << 20  // accounted bytes
	DefaultBody   = 64 << 10 // bytes of each body
	DefaultHeader = 16 << 10 // bytes of a hop's headers
)

// Limits bound a journal.
type Limits struct {
	// Hops and Bytes bound the whole journal: on append the oldest hops go
	// first until both hold. The newest hop is always kept, clipped if it
	// alone is over Bytes.
	Hops  int
	Bytes int64
	// Body is how much of each body a hop keeps as received, and how much
	// a compressed body may decode to when read (a gzip bomb decodes to at
	// most Body bytes).
	Body int
	// Header is how much of a hop's request and response headers it keeps,
	// names and values together; also the most kept of its URL, its
	// interaction and each check's message.
	Header int
}

func (l Limits) withDefaults() Limits {
	if l.Hops <= 0 {
		l.Hops = DefaultLimit
	}
	if l.Bytes <= 0 {
		l.Bytes = DefaultBytes
	}
	if l.Body <= 0 {
		l.Body = DefaultBody
	}
	if l.Header <= 0 {
		l.Header = DefaultHeader
	}
	return l
}

// Body is a request or response body as it went over the wire.
type Body struct {
	// Data is the first bytes sent; the journal keeps at most Limits.Body
	// of them (in a copy of its own).
	Data []byte
	// Encoding is the body's Content-Encoding; "gzip" is decoded when the
	// hop is read, anything else is shown as it came.
	Encoding string
	// Size is how many bytes were sent in all; when it is more than
	// len(Data) the body reads as clipped. Zero means len(Data).
	Size int64
	// Given says Data is the caller's to give away: nobody changes its
	// bytes again and it begins its array. The journal then keeps Data
	// itself rather than a copy when that holds on to at most a quarter
	// more than it keeps (keepBody), so the bounds still measure what it
	// holds.
	Given bool
}

// Journal is a log of hops bounded in hops and in bytes (Limits). It is
// safe for concurrent use.
type Journal struct {
	lim Limits

	mu      sync.Mutex
	hops    ring
	bytes   int64 // accounted size of the hops kept (size)
	seq     int64
	dropped int64
	subs    map[chan struct{}]struct{}
	starts  int64           // the last start id given (Begin)
	flying  map[int64]Start // started, not yet recorded; at most MaxInFlight
}

// New returns an empty journal bounded by l (zero fields take the
// package's defaults).
func New(l Limits) *Journal {
	return &Journal{lim: l.withDefaults(), subs: map[chan struct{}]struct{}{}, flying: map[int64]Start{}}
}

// Limits returns the journal's bounds, defaults filled in.
func (j *Journal) Limits() Limits { return j.lim }

// Append stores h, its string bodies kept as unencoded bodies, and returns
// it numbered. It is Record for callers that hold decoded bodies.
func (j *Journal) Append(h Hop) Hop {
	req, res := Body{Data: []byte(h.RequestBody)}, Body{Data: []byte(h.ResponseBody)}
	h.RequestBody, h.ResponseBody = "", ""
	h.Seq = j.Record(h, req, res)
	return h
}

// Record stores h (its RequestBody and ResponseBody are ignored) with the
// bodies as received, numbers it and wakes subscribers; it returns the
// hop's Seq. Headers, bodies and long texts are clipped to the journal's
// Limits here, whatever the caller did, and copied, so the journal never
// holds on to a caller's buffers (a 1 MB header costs Limits.Header). Then
// the oldest hops go until the journal is within Limits.Hops and
// Limits.Bytes.
func (j *Journal) Record(h Hop, req, res Body) int64 {
	return j.record(compact(h, req, res, j.lim, given{}), h.Start)
}

// RecordTaken is Record for a hop whose RequestHeader the caller made with
// ClipHeader for this hop and never changes or shares after (the
// recording middleware takes it when the request arrives): the journal
// keeps that map instead of copying it again, unless it must be clipped
// further to leave the response its share. What is kept is what Record
// would keep.
func (j *Journal) RecordTaken(h Hop, req, res Body) int64 {
	return j.record(compact(h, req, res, j.lim, given{reqHeader: true}), h.Start)
}

// RecordGiven is RecordTaken for a hop whose ResponseHeader nobody changes
// after either (the in-process provider's answer, which the SSP copies
// from): the journal keeps that map too instead of a copy, unless it must
// be clipped.
func (j *Journal) RecordGiven(h Hop, req, res Body) int64 {
	return j.record(compact(h, req, res, j.lim, given{reqHeader: true, resHeader: true}), h.Start)
}

// RecordRelay is RecordTaken for a hop that relayed the answer of the
// hop recorded just before it (the SSP's hop, after the provider's in
// process): when the answer kept is the same bytes as the newest hop's,
// the two entries share them instead of the journal keeping a second
// copy, and the bounds count them once, as the memory they are: the older
// entry accounts for them while it is kept, the newer one once it goes.
// Response headers equal to the newest hop's share its map likewise
// (counted in each entry: a few hundred bytes).
func (j *Journal) RecordRelay(h Hop, req, res Body) int64 {
	prior, header, seq := j.newestResponse()
	e := compact(h, req, res, j.lim, given{reqHeader: true, prior: prior, priorHeader: header})
	if e.owed == 0 {
		seq = 0
	}
	return j.recordOwing(e, h.Start, seq)
}

// newestResponse is the response body and headers the newest hop keeps,
// and its Seq.
func (j *Journal) newestResponse() ([]byte, http.Header, int64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.hops.n == 0 {
		return nil, nil, 0
	}
	e := j.hops.at(j.hops.n - 1)
	return e.res.Data, e.meta.ResponseHeader, e.meta.Seq
}

// record stores e, the entry of the hop that began as start.
func (j *Journal) record(e entry, start int64) int64 { return j.recordOwing(e, start, 0) }

// recordOwing is record for an entry that owes its response bytes to the
// entry numbered owner (none when 0): if that entry has gone, or another
// already owes it, e accounts for its bytes itself.
func (j *Journal) recordOwing(e entry, start, owner int64) int64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.seq++
	e.meta.Seq = j.seq
	delete(j.flying, start)
	for j.hops.n >= j.lim.Hops {
		j.drop()
	}
	if e.owed > 0 {
		if o := j.bySeq(owner); o != nil && o.sharer == 0 && sameArray(o.res.Data, e.res.Data) {
			o.sharer = e.meta.Seq
		} else {
			e.size, e.owed = e.size+e.owed, 0
		}
	}
	j.hops.push(e, j.lim.Hops)
	j.bytes += e.size
	for j.bytes > j.lim.Bytes && j.hops.n > 1 {
		j.drop()
	}
	j.wake()
	return e.meta.Seq
}

// bySeq is the kept entry numbered seq, or nil; j.mu is held. Entries are
// numbered in the order they are kept, so the ring holds a run of Seqs.
func (j *Journal) bySeq(seq int64) *entry {
	if j.hops.n == 0 || seq <= 0 {
		return nil
	}
	i := seq - j.hops.at(0).meta.Seq
	if i < 0 || i >= int64(j.hops.n) {
		return nil
	}
	return j.hops.at(int(i))
}

// sameArray reports whether a and b begin at the same byte.
func sameArray(a, b []byte) bool { return len(a) > 0 && len(b) > 0 && &a[0] == &b[0] }

// wake notifies every subscriber; j.mu is held.
func (j *Journal) wake() {
	for ch := range j.subs {
		// One pending notification is all a subscriber needs: it reads
		// what it has not sent from the journal by seq.
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// Wake notifies the subscribers without a new hop, for state they read
// besides the journal (the session's run starting or ending).
func (j *Journal) Wake() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.wake()
}

// Begin notes that a hop's request has started and wakes the subscribers;
// it returns the start's id (s.ID is ignored), which the hop carries in
// Start when it is recorded, ending the start. At most MaxInFlight starts
// are kept; the URL is clipped as a hop's is.
func (j *Journal) Begin(s Start) int64 {
	s.URL = clipString(s.URL, j.lim.Header)
	j.mu.Lock()
	defer j.mu.Unlock()
	j.starts++
	s.ID = j.starts
	if len(j.flying) < MaxInFlight {
		j.flying[s.ID] = s
		j.wake()
	}
	return s.ID
}

// InFlight returns the starts with an id above after whose hops are not
// recorded yet, oldest first.
func (j *Journal) InFlight(after int64) []Start {
	j.mu.Lock()
	var out []Start
	for id, s := range j.flying {
		if id > after {
			out = append(out, s)
		}
	}
	j.mu.Unlock()
	sort.Slice(out, func(a, b int) bool { return out[a].ID < out[b].ID })
	return out
}

// drop forgets the oldest hop; j.mu is held.
func (j *Journal) drop() {
	e := j.hops.pop()
	j.bytes -= e.size
	j.dropped++
	if s := j.bySeq(e.sharer); s != nil && s.owed > 0 {
		// The bytes e accounted for are still kept, by the entry that
		// shares them: it accounts for them now.
		j.bytes += s.owed
		s.size, s.owed = s.size+s.owed, 0
	}
}

// Entry is one hop as the journal keeps it, taken by Page; Hop and View
// decode its bodies. An Entry shares its bodies with the journal, which
// never changes them.
type Entry struct {
	e    entry
	body int
}

// Seq is the hop's number.
func (e Entry) Seq() int64 { return e.e.meta.Seq }

// Hop returns the hop with its bodies decoded.
func (e Entry) Hop() Hop {
	h := e.e.meta
	h.RequestBody = text(e.e.req, e.body)
	h.ResponseBody = text(e.e.res, e.body)
	return h
}

// Page returns, oldest first, up to limit (at least 1) of the hops with Seq > since for
// which match (nil: every hop) is true, and whether more such hops follow
// the last one returned. match sees the hop without its bodies and must not
// keep or change it. Only the entries are copied under the journal's lock;
// their bodies are decoded when the caller asks (Entry.Hop, Entry.View), so
// a page costs what its own hops do, whatever the journal holds.
func (j *Journal) Page(since int64, limit int, match func(*Hop) bool) (page []Entry, more bool) {
	limit = max(limit, 1)
	j.mu.Lock()
	defer j.mu.Unlock()
	start := sort.Search(j.hops.n, func(i int) bool { return j.hops.at(i).meta.Seq > since })
	for i := start; i < j.hops.n; i++ {
		e := j.hops.at(i)
		e.unshare()
		if match != nil && !match(&e.meta) {
			continue
		}
		if len(page) >= limit {
			return page, true
		}
		page = append(page, Entry{e: *e, body: j.lim.Body})
	}
	return page, false
}

// Hops returns the hops kept, oldest first, bodies decoded.
func (j *Journal) Hops() []Hop { return j.Since(0) }

// Since returns the hops with Seq > seq, oldest first, bodies decoded.
func (j *Journal) Since(seq int64) []Hop {
	page, _ := j.Page(seq, int(^uint(0)>>1), nil)
	if len(page) == 0 {
		return nil
	}
	out := make([]Hop, len(page))
	for i, e := range page {
		out[i] = e.Hop()
	}
	return out
}

// Requests returns the hops kept, oldest first, with their request bodies
// decoded and no response bodies: what a verdict on a consumer's requests
// reads. A response body kept gzip-compressed can expand to Limits.Body on
// reading, so leaving them out keeps a judgement of a full journal close to
// what the journal itself holds.
func (j *Journal) Requests() []Hop {
	page, _ := j.Page(0, int(^uint(0)>>1), nil)
	out := make([]Hop, len(page))
	for i, e := range page {
		out[i] = e.e.meta
		out[i].RequestBody = text(e.e.req, e.body)
	}
	return out
}

// Len returns how many hops are kept.
func (j *Journal) Len() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.hops.n
}

// Bytes returns the accounted size of the hops kept: their bodies as kept,
// headers, texts and a fixed cost per hop. It is at most Limits.Bytes.
func (j *Journal) Bytes() int64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.bytes
}

// Dropped returns how many hops were dropped to respect the limits.
func (j *Journal) Dropped() int64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.dropped
}

// Clear forgets every hop (numbering continues; they do not count as
// dropped).
func (j *Journal) Clear() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.hops = ring{}
	j.bytes = 0
}

// Subscribe returns a channel that receives a notification after hops are
// appended, and a function that ends the subscription (closing the
// channel). Notifications do not carry hops and do not queue: at most one
// is pending, so a subscriber costs the same however slow it is; on each it
// reads what it has not seen with Page.
func (j *Journal) Subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	j.mu.Lock()
	j.subs[ch] = struct{}{}
	j.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			j.mu.Lock()
			delete(j.subs, ch)
			j.mu.Unlock()
			close(ch)
		})
	}
}

// InStartOrder returns a copy of hops ordered by when each request began.
// The journal appends a hop when its answer is done, so an SSP→provider leg
// precedes the consumer→SSP hop that carried it, and a request the
// consumer gave up on can follow the consumer's next requests.
func InStartOrder(hops []Hop) []Hop {
	out := append([]Hop(nil), hops...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out
}

// ring is a FIFO of entries: append and drop are O(1) amortised, where
// shifting a slice cost O(hops) on every append once the journal was full.
// It grows by doubling up to the hop limit and halves when three quarters
// empty, so a session that records little (or few large hops) holds
// little.
type ring struct {
	buf  []entry
	head int // index in buf of the oldest entry
	n    int
}

func (r *ring) at(i int) *entry { return &r.buf[(r.head+i)%len(r.buf)] }

// push appends e; the caller has made room so that r.n < limit.
func (r *ring) push(e entry, limit int) {
	if r.n == len(r.buf) {
		r.resize(min(max(16, 2*len(r.buf)), limit))
	}
	*r.at(r.n) = e
	r.n++
}

func (r *ring) pop() entry {
	p := r.at(0)
	e := *p
	*p = entry{} // let the bodies go
	r.head = (r.head + 1) % len(r.buf)
	r.n--
	if len(r.buf) > 64 && r.n < len(r.buf)/4 {
		r.resize(len(r.buf) / 2)
	}
	return e
}

func (r *ring) resize(size int) {
	buf := make([]entry, size)
	for i := 0; i < r.n; i++ {
		buf[i] = *r.at(i)
	}
	r.buf, r.head = buf, 0
}
