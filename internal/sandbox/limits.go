package sandbox

import (
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
)

// Limits bound what one sandbox accepts and keeps, so that one careless or
// hostile client on a shared CI network cannot take it down for the others.
// Each is checked before the work it guards is done, and each is a flag of
// `spine-sandbox serve` (the README's "Running it for a team" lists them).
// A zero field takes its default.
type Limits struct {
	// MaxSessions is how many sessions may be open at once; a create past
	// it is refused with 429 before its world is built.
	MaxSessions int
	// SessionTTL is how long a session may go unused before it is removed
	// (the default session is reset instead).
	SessionTTL time.Duration
	// MaxScenarioBytes bounds a scenario sent to POST /_admin/sessions (413
	// above it, without reading or echoing the rest).
	MaxScenarioBytes int64
	// MaxSlotsPerPractice and MaxSlotsPerSession bound the slots a
	// scenario's world may hold, listed and generated (YAML aliases count
	// as copies); counted before any slot is built.
	MaxSlotsPerPractice int
	MaxSlotsPerSession  int
	// MaxSlotsTotal bounds the slots of every open session together, so
	// that MaxSessions sessions of the largest world cannot exhaust
	// memory between them (a world keeps about 250 bytes a slot); a create
	// that would pass it is refused with 429 before its world is built.
	MaxSlotsTotal int
	// JournalHops and JournalBytes bound each session's journal; the oldest
	// hops go first and the journal says how many were dropped.
	JournalHops  int
	JournalBytes int64
	// MaxHeaderBytes bounds a request's header block (the listener answers
	// 431 above it, before any handler runs). GP Connect's headers with
	// their JWT are a few KiB.
	MaxHeaderBytes int
	// BodyKept is how much of each request and response body a hop keeps;
	// HeaderKept how much of its request and response headers.
	BodyKept   int
	HeaderKept int
	// TraceIDWindow is how many Ssp-TraceIDs a session remembers for the
	// reused-trace-id check (the oldest are forgotten first).
	TraceIDWindow int
	// MaxRuns bounds the built-in consumer runs (POST …/run) in flight
	// across the sandbox; a session has at most one at a time.
	MaxRuns int
	// EventWriteTimeout is how long one write to a live event stream may
	// take before the reader is dropped as too slow.
	EventWriteTimeout time.Duration
}

// DefaultLimits are the limits a sandbox runs with unless told otherwise.
// A 100,000-slot world (the performance benchmarks' large world) fits.
var DefaultLimits = Limits{
	MaxSessions:         1000,
	SessionTTL:          24 * time.Hour,
	MaxScenarioBytes:    1 << 20,
	MaxSlotsPerPractice: 200_000,
	MaxSlotsPerSession:  400_000,
	MaxSlotsTotal:       1_000_000,
	JournalHops:         5000,
	JournalBytes:        8 << 20,
	MaxHeaderBytes:      64 << 10,
	BodyKept:            64 << 10,
	HeaderKept:          16 << 10,
	TraceIDWindow:       10_000,
	MaxRuns:             8,
	EventWriteTimeout:   10 * time.Second,
}

// Scenario maps the slot limits onto the scenario loader's.
func (l Limits) Scenario() scenario.Limits {
	return scenario.Limits{MaxSlotsPerPractice: l.MaxSlotsPerPractice, MaxSlotsPerSession: l.MaxSlotsPerSession}
}

// withDefaults fills every zero field from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.MaxSessions <= 0 {
		l.MaxSessions = d.MaxSessions
	}
	if l.SessionTTL <= 0 {
		l.SessionTTL = d.SessionTTL
	}
	if l.MaxScenarioBytes <= 0 {
		l.MaxScenarioBytes = d.MaxScenarioBytes
	}
	if l.MaxSlotsPerPractice <= 0 {
		l.MaxSlotsPerPractice = d.MaxSlotsPerPractice
	}
	if l.MaxSlotsPerSession <= 0 {
		l.MaxSlotsPerSession = d.MaxSlotsPerSession
	}
	if l.MaxSlotsTotal <= 0 {
		l.MaxSlotsTotal = d.MaxSlotsTotal
	}
	if l.JournalHops <= 0 {
		l.JournalHops = d.JournalHops
	}
	if l.JournalBytes <= 0 {
		l.JournalBytes = d.JournalBytes
	}
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = d.MaxHeaderBytes
	}
	if l.BodyKept <= 0 {
		l.BodyKept = d.BodyKept
	}
	if l.HeaderKept <= 0 {
		l.HeaderKept = d.HeaderKept
	}
	if l.TraceIDWindow <= 0 {
		l.TraceIDWindow = d.TraceIDWindow
	}
	if l.MaxRuns <= 0 {
		l.MaxRuns = d.MaxRuns
	}
	if l.EventWriteTimeout <= 0 {
		l.EventWriteTimeout = d.EventWriteTimeout
	}
	return l
}
