package conformance

import (
	"hash/maphash"
	"net/http"
	"strings"
	"sync"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/journal"
	"github.com/spine-sandbox/spine-sandbox/internal/jwt"
	"github.com/spine-sandbox/spine-sandbox/internal/world"
)

// Journey follows one session's consumer→SSP requests to judge their
// order: rules no single request shows. It is safe for concurrent use.
type Journey struct {
	world  *world.World
	mu     sync.Mutex
	traces traceWindow
	found  map[string]bool // practices (ODS) with a find or register sent (bounded by the world's practices)
}

// DefaultTraceWindow is the trace-id window NewJourney uses when given
// none (sandbox.DefaultLimits.TraceIDWindow).
const DefaultTraceWindow = 10_000

// NewJourney starts an empty journey over w that remembers the last window
// Ssp-TraceIDs for the reuse check (DefaultTraceWindow when window <= 0).
func NewJourney(w *world.World, window int) *Journey {
	if window <= 0 {
		window = DefaultTraceWindow
	}
	return &Journey{world: w, traces: newTraceWindow(window), found: map[string]bool{}}
}

// TracesKept is how many Ssp-TraceIDs the journey remembers now; never more
// than its window.
func (j *Journey) TracesKept() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.traces.kept()
}

// traceWindow remembers the last window distinct trace ids, forgetting
// the oldest first (FIFO), so a session that lives for millions of requests
// keeps a bounded set instead of every id it ever saw. It keeps a 64-bit
// hash of each id, not the id (a false "reused" needs two of window ids to
// collide: about window/2^63 a request), and grows as ids arrive, so an
// idle session costs next to nothing.
//
// The set is a table of its own rather than a map: a map that forgets one
// key for each it learns fills with deleted slots it must probe past, and
// the window's lookup, insert and delete on every request to the SSP were
// a tenth of the SSP hop's cost (docs/performance.md). The table is open
// addressing with linear probing, at most five eighths full (16,384 slots,
// 128 KiB, for the default 10,000 ids), and a delete moves back the keys
// after it (backward shift), so no slot is ever a tombstone.
type traceWindow struct {
	window int
	seed   maphash.Seed
	ring   []uint64 // hashes in the order first seen; once full, next is the oldest
	next   int
	slots  []uint64 // the set: a hash, or 0 for an empty slot; len a power of two
}

func newTraceWindow(window int) traceWindow {
	return traceWindow{window: window, seed: maphash.MakeSeed()}
}

// kept is how many ids the window remembers.
func (t *traceWindow) kept() int { return len(t.ring) }

// add records id and reports whether it was already remembered.
func (t *traceWindow) add(id string) (reused bool) {
	h := maphash.String(t.seed, id) | 1 // never 0, the empty slot
	if t.has(h) {
		return true
	}
	if len(t.ring) < t.window {
		t.ring = append(t.ring, h)
		if 8*len(t.ring) > 5*len(t.slots) {
			t.grow()
		}
	} else {
		t.remove(t.ring[t.next])
		t.ring[t.next] = h
		t.next = (t.next + 1) % t.window
	}
	t.insert(h)
	return false
}

func (t *traceWindow) mask() uint64 { return uint64(len(t.slots) - 1) }

// has reports whether the set holds h.
func (t *traceWindow) has(h uint64) bool {
	if len(t.slots) == 0 {
		return false
	}
	m := t.mask()
	for i := h & m; t.slots[i] != 0; i = (i + 1) & m {
		if t.slots[i] == h {
			return true
		}
	}
	return false
}

// insert adds h, which the set does not hold, to a table with room.
func (t *traceWindow) insert(h uint64) {
	m := t.mask()
	i := h & m
	for t.slots[i] != 0 {
		i = (i + 1) & m
	}
	t.slots[i] = h
}

// remove deletes h, which the set holds, moving back each key after it
// that would otherwise be cut off from its home slot by the gap.
func (t *traceWindow) remove(h uint64) {
	m := t.mask()
	i := h & m
	for t.slots[i] != h {
		i = (i + 1) & m
	}
	for j := (i + 1) & m; t.slots[j] != 0; j = (j + 1) & m {
		// The key at j may fill the gap at i unless its home slot lies
		// cyclically in (i, j]: then moving it before its home would lose it.
		if home := t.slots[j] & m; (j-home)&m >= (j-i)&m {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = 0
}

// grow doubles the table (16 slots at first, as the ring fills up to
// window ids) and puts every kept hash back.
func (t *traceWindow) grow() {
	old := t.slots
	t.slots = make([]uint64, max(16, 2*len(old)))
	for _, h := range old {
		if h != 0 {
			t.insert(h)
		}
	}
}

// Observe records one consumer→SSP request for interaction at the
// practice ods and judges it against the ones before.
func (j *Journey) Observe(r *http.Request, interaction gpc.Interaction, ods string) []journal.Verdict {
	asid := ""
	p, known := j.world.Practice(ods)
	if known {
		asid = p.ProviderASID
	}
	var vs verdicts
	vs.observe(j, r, interaction, ods, asid, known && ods != "")
	return vs.out
}

// observe is Observe with the practice's provider ASID looked up already
// (known: ods is a practice of the world).
func (vs *verdicts) observe(j *Journey, r *http.Request, interaction gpc.Interaction, ods, providerASID string, known bool) {
	trace, _ := gpc.Header(r.Header, "Ssp-TraceID")
	j.mu.Lock()
	// JOURNEY_TRACEID_REUSED looks back over the window only: a reuse of an
	// id older than the last TraceIDWindow ids (sandbox.Limits) is not
	// detected. Real consumers reuse an id by mistake within one exchange or
	// retry, far inside any useful window; remembering every id would grow
	// without end on a long-lived session.
	reused := trace != "" && j.traces.add(trace)
	prior := j.found[ods]
	if ods != "" && (interaction == gpc.SearchPatient || interaction == gpc.RegisterPatient) {
		j.found[ods] = true
	}
	j.mu.Unlock()

	if trace != "" {
		if reused {
			vs.add(JourneyTraceIDReused, false, "Ssp-TraceID "+quote(trace)+" was already used in this session")
		} else {
			vs.add(JourneyTraceIDReused, true, "")
		}
	}
	// A booking sent to no known practice names none to have found the
	// patient at; the SSP refuses its target anyway.
	if interaction == gpc.CreateAppointment && ods != "" {
		if prior {
			vs.add(JourneyBookWithoutFind, true, "")
		} else {
			vs.add(JourneyBookWithoutFind, false, "booking at "+quote(ods)+" without a find patient or register patient there first")
		}
	}
	if known {
		to, _ := gpc.Header(r.Header, "Ssp-To")
		if to == providerASID {
			vs.add(JourneySSPToNotFromSDS, true, "")
		} else {
			vs.add(JourneySSPToNotFromSDS, false, "Ssp-To "+quote(to)+" is not "+quote(providerASID)+", the ASID SDS holds for "+ods)
		}
	}
}

// SSPJudge judges the consumer's requests to one session's SSP as seen
// from one origin (one view of the world): the SSP's header and JWT rules
// against the service root the target starts with, the interaction's FHIR
// rules, then the journey's. It indexes the practices' service roots once
// — a practice's root and ASID never change in a world — instead of
// copying every practice per request. It is safe for concurrent use.
type SSPJudge struct {
	prefix  string
	world   *world.World
	journey *Journey
	rules   RequestRules
	roots   []practiceRoot
}

type practiceRoot struct{ root, ods, asid string }

// NewSSPJudge judges requests to the SSP mounted at prefix (the path
// before the target URL) over w, following journey j, with the
// interactions' FHIR rules.
func NewSSPJudge(prefix string, w *world.World, j *Journey, rules RequestRules) *SSPJudge {
	sj := &SSPJudge{prefix: prefix, world: w, journey: j, rules: rules}
	for _, p := range w.Practices() {
		sj.roots = append(sj.roots, practiceRoot{w.ServiceRoot(p), p.ODS, p.ProviderASID})
	}
	return sj
}

// Judge gives the verdicts on one request, with its body. An OPTIONS is a
// CORS preflight the SSP answers itself (a browser sends it without Ssp-*
// headers or a JWT, and it reaches no provider): it is no GP Connect
// message, so none of the message checks judge it, and it is no step of
// the journey.
func (sj *SSPJudge) Judge(r *http.Request, body []byte) []journal.Verdict {
	vs := verdicts{out: make([]journal.Verdict, 0, 16+len(jwt.Rules))}
	sj.judge(&vs, r, body)
	return vs.out
}

// Failures gives the failed verdicts of Judge alone, in its order, without
// building those that pass: what the sandbox keeps of them (Merge) and
// answers in strict mode (Refusal).
func (sj *SSPJudge) Failures(r *http.Request, body []byte) []journal.Verdict {
	vs := verdicts{failedOnly: true}
	sj.judge(&vs, r, body)
	return vs.out
}

func (sj *SSPJudge) judge(vs *verdicts, r *http.Request, body []byte) {
	if r.Method == http.MethodOptions {
		return
	}
	target := rawURI(r)
	if i := len(sj.prefix); i <= len(target) && target[:i] == sj.prefix {
		target = target[i:]
	}
	// The longest root the target starts with (ServiceRoot).
	var at *practiceRoot
	for i := range sj.roots {
		if pr := &sj.roots[i]; strings.HasPrefix(target, pr.root) && (at == nil || len(pr.root) > len(at.root)) {
			at = pr
		}
	}
	root, ods, asid := "", "", ""
	if at != nil {
		root, ods, asid = at.root, at.ods, at.asid
	}
	vs.ssp(r, root, sj.world)
	vs.fhirRequest(r, body, sj.rules)
	id, _ := gpc.Header(r.Header, "Ssp-InteractionID")
	vs.observe(sj.journey, r, gpc.Interaction(id), ods, asid, at != nil)
}

// SSPRequest judges a consumer request that reached the SSP mounted at
// prefix: NewSSPJudge(prefix, w, j, rules).Judge(r, body), for one
// request.
func SSPRequest(r *http.Request, body []byte, prefix string, w *world.World, j *Journey, rules RequestRules) []journal.Verdict {
	return NewSSPJudge(prefix, w, j, rules).Judge(r, body)
}

// Merge appends the failed verdicts of mine to reported, leaving out any
// whose check reported already names: the SSP's own verdict is preferred.
// Passed verdicts are left out so that a journal entry lists what went
// wrong only (the runner and the console read failures alone).
func Merge(reported, mine []journal.Verdict) []journal.Verdict {
	seen := map[string]bool{}
	for _, v := range reported {
		seen[v.Check] = true
	}
	out := reported
	for _, v := range mine {
		if !v.Passed && !seen[v.Check] {
			out = append(out, v)
		}
	}
	return out
}
