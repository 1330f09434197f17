// Package journal records every hop of a session — who called whom, for
// which step of the booking sequence, with the request, the response and the
// verdict of every conformance check applied — in a bounded, concurrency-safe
// log that reports, the runner and the live sequence diagram read.
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
	Name           string      `json:"name"`
	Method         string      `json:"method"`
	URL            string      `json:"url"`
	Status         int         `json:"status"`
	RequestHeader  http.Header `json:"request_header,omitempty"`
	RequestBody    string      `json:"request_body,omitempty"`
	ResponseHeader http.Header `json:"response_header,omitempty"`
	ResponseBody   string      `json:"response_body,omitempty"`
	// Code is the Spine/PDS/SDS error code in the response, if any.
	Code   string    `json:"code,omitempty"`
	Fault  string    `json:"fault,omitempty"` // the scenario fault applied, if any
	Error  string    `json:"error,omitempty"` // transport error, if any
	Checks []Verdict `json:"checks,omitempty"`
}

// Failed reports whether any check on the hop failed.
func (h Hop) Failed() bool {
	for _, v := range h.Checks {
		if !v.Passed {
			return true
		}
	}
	return false
}

// DefaultLimit is how many hops a journal keeps unless told otherwise.
const DefaultLimit = 5000

// Journal is a bounded log of hops. The oldest hops are dropped once Limit
// is reached. It is safe for concurrent use.
type Journal struct {
	mu      sync.Mutex
	limit   int
	hops    []Hop
	seq     int64
	dropped int64
	subs    map[chan Hop]struct{}
}

// New returns an empty journal keeping at most limit hops (DefaultLimit
// when limit <= 0).
func New(limit int) *Journal {
	if limit <= 0 {
		limit = DefaultLimit
	}
	return &Journal{limit: limit, subs: map[chan Hop]struct{}{}}
}

// Append stores h, numbering it, and hands it to subscribers. Subscribers
// that are not keeping up miss hops rather than slow the sandbox down.
func (j *Journal) Append(h Hop) Hop {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.seq++
	h.Seq = j.seq
	if len(j.hops) >= j.limit {
		n := len(j.hops) - j.limit + 1
		j.hops = append(j.hops[:0], j.hops[n:]...)
		j.dropped += int64(n)
	}
	j.hops = append(j.hops, h)
	for ch := range j.subs {
		select {
		case ch <- h:
		default:
		}
	}
	return h
}

// Hops returns a copy of the hops kept, oldest first.
func (j *Journal) Hops() []Hop {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]Hop(nil), j.hops...)
}

// Since returns the hops with Seq > seq, oldest first.
func (j *Journal) Since(seq int64) []Hop {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []Hop
	for _, h := range j.hops {
		if h.Seq > seq {
			out = append(out, h)
		}
	}
	return out
}

// Dropped returns how many hops were dropped to respect the limit.
func (j *Journal) Dropped() int64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.dropped
}

// Clear forgets every hop (numbering continues).
func (j *Journal) Clear() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.hops = nil
}

// Subscribe returns a channel receiving every hop appended from now on, and
// a function that ends the subscription.
func (j *Journal) Subscribe(buffer int) (<-chan Hop, func()) {
	ch := make(chan Hop, buffer)
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
