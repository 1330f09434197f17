package scenario

import (
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Europe/London must resolve on machines without a zoneinfo database

	"gopkg.in/yaml.v3"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/nhsnumber"
)

// London is the zone relative dates resolve in: GP practices book in UK
// local time.
var London = mustLoadLocation("Europe/London")

func mustLoadLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err) // time/tzdata is embedded, so this cannot happen
	}
	return loc
}

// Enum is a string restricted to the values listed in its field's `enum`
// tag.
type Enum string

// NHSNumber is a ten-digit NHS number that passes Modulus 11
// (pds-sds-fhir.md §2.6). It is read from the YAML text, never as a
// number, so leading zeros survive.
type NHSNumber string

func (x *NHSNumber) decodeNode(d *decoder, n *yaml.Node, where string) {
	s, ok := d.scalar(n, where+": an NHS number")
	if !ok {
		return
	}
	switch {
	case !digits.MatchString(s) || len(s) != 10:
		d.errorf(n, "%s: NHS number %q must be 10 digits", where, s)
	case !nhsnumber.Valid(s):
		d.errorf(n, "%s: NHS number %q fails the Modulus 11 check", where, s)
	default:
		*x = NHSNumber(s)
	}
}

var (
	digits  = regexp.MustCompile(`^[0-9]+$`)
	odsCode = regexp.MustCompile(`^[0-9A-Z]+$`)
)

// ASID is a 12-digit Accredited System ID, read as text.
type ASID string

func (x *ASID) decodeNode(d *decoder, n *yaml.Node, where string) {
	s, ok := d.scalar(n, where+": an ASID")
	if !ok {
		return
	}
	if len(s) != 12 || !digits.MatchString(s) {
		d.errorf(n, "%s: ASID %q must be 12 digits", where, s)
		return
	}
	*x = ASID(s)
}

// ODSCode is an ODS organisation code: ^[0-9A-Z]+$, as PDS's schema says
// (pds-sds-fhir.md §2.4).
type ODSCode string

func (x *ODSCode) decodeNode(d *decoder, n *yaml.Node, where string) {
	s, ok := d.scalar(n, where+": an ODS code")
	if !ok {
		return
	}
	if !odsCode.MatchString(s) {
		d.errorf(n, "%s: ODS code %q must match ^[0-9A-Z]+$", where, s)
		return
	}
	*x = ODSCode(s)
}

// Date is a calendar date written yyyy-mm-dd.
type Date string

func (x *Date) decodeNode(d *decoder, n *yaml.Node, where string) {
	s, ok := d.scalar(n, where+": a date (yyyy-mm-dd)")
	if !ok {
		return
	}
	if _, err := time.Parse(time.DateOnly, s); err != nil || len(s) != 10 {
		d.errorf(n, "%s: %s", where, dateProblem(s))
		return
	}
	*x = Date(s)
}

// Duration is a Go duration such as 15m, 1h or 1h30m; never negative.
type Duration time.Duration

func (x *Duration) decodeNode(d *decoder, n *yaml.Node, where string) {
	s, ok := d.scalar(n, where+": a duration")
	if !ok {
		return
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		d.errorf(n, "%s: bad duration %q (write e.g. 15m, 1h, 1h30m, 500ms)", where, s)
		return
	}
	*x = Duration(v)
}

// D returns x as a time.Duration.
func (x Duration) D() time.Duration { return time.Duration(x) }

// TimeOfDay is a wall-clock time HH:MM, in minutes after midnight.
type TimeOfDay int

func (x *TimeOfDay) decodeNode(d *decoder, n *yaml.Node, where string) {
	s, ok := d.scalar(n, where+": a time of day (HH:MM)")
	if !ok {
		return
	}
	t, ok := parseClock(s)
	if !ok {
		d.errorf(n, "%s: time of day %q is not HH:MM", where, s)
		return
	}
	*x = t
}

func parseClock(s string) (TimeOfDay, bool) {
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) < 1 || len(h) > 2 || len(m) != 2 || !digits.MatchString(h) || !digits.MatchString(m) {
		return 0, false
	}
	hh, _ := strconv.Atoi(h)
	mm, _ := strconv.Atoi(m)
	if hh > 23 || mm > 59 {
		return 0, false
	}
	return TimeOfDay(hh*60 + mm), true
}

// String formats t as HH:MM.
func (t TimeOfDay) String() string { return fmt.Sprintf("%02d:%02d", int(t)/60, int(t)%60) }

type whenKind int

const (
	whenAbsolute whenKind = iota // RFC3339
	whenDate                     // yyyy-mm-dd [HH:MM] in London
	whenDays                     // today/tomorrow/±Nd [HH:MM]
	whenNext                     // next <weekday> [HH:MM]
	whenOffset                   // now, ±N(h|m|s...) from now
)

// When is a point in time written so that files never go stale: "+1d
// 09:00", "+2d", "-3d", "today 14:00", "tomorrow", "next monday 09:00",
// "now", "+90m", "-2h", or absolute ("2026-12-01T09:00:00+00:00",
// "2026-12-01", "2026-12-01 09:00"). Day-relative forms resolve in
// Europe/London at the given wall-clock time (midnight when none).
type When struct {
	Text    string
	kind    whenKind
	abs     time.Time
	days    int
	weekday time.Weekday
	clock   TimeOfDay
	offset  time.Duration
}

var (
	reDays    = regexp.MustCompile(`^(today|tomorrow|yesterday|[+-]\d+d)(?:\s+(\S+))?$`)
	reNext    = regexp.MustCompile(`^next\s+([a-z]+)(?:\s+(\S+))?$`)
	reOffset  = regexp.MustCompile(`^(?:now)?\s*([+-]\s*\d+(?:\.\d+)?(?:h|m|s|ms))?$`)
	reDateHHM = regexp.MustCompile(`^(\d{4}-\d{2}-\d{2})(?:[ T](\d{1,2}:\d{2}))?$`)
	weekdays  = map[string]time.Weekday{
		"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
		"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
	}
)

// ParseWhen parses a relative or absolute date expression.
func ParseWhen(s string) (When, error) {
	w := When{Text: s}
	l := strings.ToLower(strings.TrimSpace(s))
	clock := func(c string) error {
		if c == "" {
			return nil
		}
		t, ok := parseClock(c)
		if !ok {
			return fmt.Errorf("bad time of day %q in date %q (want HH:MM)", c, s)
		}
		w.clock = t
		return nil
	}
	if t, err := time.Parse(time.RFC3339, strings.TrimSpace(s)); err == nil {
		w.kind, w.abs = whenAbsolute, t
		return w, nil
	}
	if m := reDateHHM.FindStringSubmatch(l); m != nil {
		t, err := time.ParseInLocation(time.DateOnly, m[1], London)
		if err != nil {
			return w, fmt.Errorf("bad date %q", s)
		}
		w.kind, w.abs = whenDate, t
		return w, clock(m[2])
	}
	if m := reDays.FindStringSubmatch(l); m != nil {
		w.kind = whenDays
		switch m[1] {
		case "today":
		case "tomorrow":
			w.days = 1
		case "yesterday":
			w.days = -1
		default:
			n, err := strconv.Atoi(strings.TrimSuffix(m[1], "d"))
			if err != nil || n > 3660 || n < -3660 {
				return w, fmt.Errorf("bad relative date %q", s)
			}
			w.days = n
		}
		return w, clock(m[2])
	}
	if m := reNext.FindStringSubmatch(l); m != nil {
		wd, ok := weekdays[m[1]]
		if !ok {
			return w, fmt.Errorf("bad relative date %q: %q is not a weekday", s, m[1])
		}
		w.kind, w.weekday = whenNext, wd
		return w, clock(m[2])
	}
	if l != "" {
		if m := reOffset.FindStringSubmatch(l); m != nil && (m[1] != "" || l == "now") {
			w.kind = whenOffset
			if m[1] != "" {
				d, err := time.ParseDuration(strings.ReplaceAll(m[1], " ", ""))
				if err != nil {
					return w, fmt.Errorf("bad relative date %q", s)
				}
				w.offset = d
			}
			return w, nil
		}
	}
	return w, fmt.Errorf("bad relative date %q (write e.g. +1d 09:00, today 14:00, next monday 09:00, -3d, now, +2h or 2026-12-01T09:00:00+00:00)", s)
}

func (x *When) decodeNode(d *decoder, n *yaml.Node, where string) {
	s, ok := d.scalar(n, where+": a date")
	if !ok {
		return
	}
	w, err := ParseWhen(s)
	if err != nil {
		d.errorf(n, "%s: %v", where, err)
		return
	}
	*x = w
}

// Absolute reports whether w names one instant whatever the clock says.
func (w When) Absolute() bool { return w.kind == whenAbsolute || w.kind == whenDate }

// Resolve returns the instant w names when the time is now.
func (w When) Resolve(now time.Time) time.Time {
	switch w.kind {
	case whenAbsolute:
		return w.abs
	case whenOffset:
		return now.Add(w.offset)
	}
	var y int
	var m time.Month
	var day int
	switch w.kind {
	case whenDate:
		y, m, day = w.abs.Date()
	case whenDays:
		y, m, day = now.In(London).Date()
		day += w.days
	case whenNext:
		l := now.In(London)
		y, m, day = l.Date()
		ahead := (int(w.weekday) - int(l.Weekday()) + 7) % 7
		if ahead == 0 {
			ahead = 7
		}
		day += ahead
	}
	return time.Date(y, m, day, int(w.clock)/60, int(w.clock)%60, 0, 0, London)
}

// Channel is a slot delivery channel (Extension-GPConnect-DeliveryChannel-2):
// In-person, Telephone or Video; matched case-insensitively.
type Channel string

func (x *Channel) decodeNode(d *decoder, n *yaml.Node, where string) {
	s, ok := d.scalar(n, where+": a delivery channel")
	if !ok {
		return
	}
	for _, c := range []string{gpc.ChannelInPerson, gpc.ChannelTelephone, gpc.ChannelVideo} {
		if strings.EqualFold(s, c) {
			*x = Channel(c)
			return
		}
	}
	d.errorf(n, "%s: unknown delivery channel %q (want In-person, Telephone or Video)", where, s)
}

// Hop is one service on the journey.
type Hop string

// The hops a fault or an expected error names.
const (
	HopPDS      Hop = "pds"
	HopSDS      Hop = "sds"
	HopSSP      Hop = "ssp"
	HopProvider Hop = "provider"
)

func (x *Hop) decodeNode(d *decoder, n *yaml.Node, where string) {
	s, ok := d.scalar(n, where+": a hop")
	if !ok {
		return
	}
	switch h := Hop(s); h {
	case HopPDS, HopSDS, HopSSP, HopProvider:
		*x = h
	default:
		d.errorf(n, "%s: unknown hop %q (want pds, sds, ssp or provider)", where, s)
	}
}

// ParseInteraction accepts a GP Connect interaction's short name ("book
// appointment", case-insensitive) or its URN.
func ParseInteraction(s string) (gpc.Interaction, bool) {
	if gpc.IsKnown(gpc.Interaction(s)) {
		return gpc.Interaction(s), true
	}
	for _, in := range gpc.Interactions {
		if strings.EqualFold(strings.Join(strings.Fields(s), " "), in.Name) {
			return in.ID, true
		}
	}
	return "", false
}

// Interaction is one GP Connect interaction, written as a name or URN.
type Interaction gpc.Interaction

func (x *Interaction) decodeNode(d *decoder, n *yaml.Node, where string) {
	s, ok := d.scalar(n, where+": an interaction")
	if !ok {
		return
	}
	in, ok := ParseInteraction(s)
	if !ok {
		d.errorf(n, "%s: unknown interaction %q%s (use a name such as \"book appointment\" or a URN)", where, s, interactionHint(s))
		return
	}
	*x = Interaction(in)
}

// Interactions is a list of interactions, or every Foundations and
// Appointment Management interaction when the key is absent or "all".
type Interactions struct {
	Set  bool // a list was given
	List []gpc.Interaction
}

// Resolve returns the listed interactions, or all of them when none were
// listed.
func (x Interactions) Resolve() []gpc.Interaction {
	if x.Set {
		return append([]gpc.Interaction(nil), x.List...)
	}
	all := make([]gpc.Interaction, len(gpc.Interactions))
	for i, in := range gpc.Interactions {
		all[i] = in.ID
	}
	return all
}

func (x *Interactions) decodeNode(d *decoder, n *yaml.Node, where string) {
	if n.Kind == yaml.ScalarNode && n.Value == "all" {
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, "%s: expected a list of interactions or \"all\", got %s", where, kind(n))
		return
	}
	x.Set, x.List = true, []gpc.Interaction{}
	for i, c := range n.Content {
		var in Interaction
		in.decodeNode(d, resolve(c), fmt.Sprintf("%s[%d]", where, i))
		if in == "" {
			continue
		}
		for _, have := range x.List {
			if have == gpc.Interaction(in) {
				d.errorf(c, "%s[%d]: interaction %q listed twice", where, i, c.Value)
			}
		}
		x.List = append(x.List, gpc.Interaction(in))
	}
}

// FixturePath is a file below the repository's fixtures/ folder, written
// relative to it (for example "provider/book-request.json").
type FixturePath string

func (x *FixturePath) decodeNode(d *decoder, n *yaml.Node, where string) {
	s, ok := d.scalar(n, where+": a fixture path")
	if !ok {
		return
	}
	if s == "" || path.IsAbs(s) || strings.Contains(s, `\`) || path.Clean(s) != s || s == ".." || strings.HasPrefix(s, "../") {
		d.errorf(n, "%s: fixture path %q must be a clean relative path below fixtures/ (e.g. provider/book.json)", where, s)
		return
	}
	*x = FixturePath(s)
}

// Body is a canned response body: inline (a YAML/JSON object or list,
// stored as JSON; or a string, sent as is) or a fixture file.
type Body struct {
	JSON    json.RawMessage // inline object or list
	Text    string          // inline string
	Fixture FixturePath     // fixture: path
}

func (x *Body) decodeNode(d *decoder, n *yaml.Node, where string) {
	switch n.Kind {
	case yaml.ScalarNode:
		x.Text = n.Value
		return
	case yaml.MappingNode:
		if len(n.Content) == 2 && n.Content[0].Value == "fixture" {
			x.Fixture.decodeNode(d, resolve(n.Content[1]), where+".fixture")
			return
		}
	case yaml.SequenceNode:
	default:
		d.errorf(n, "%s: expected an object, a list, a string or fixture: path, got %s", where, kind(n))
		return
	}
	var v any
	if err := n.Decode(&v); err != nil {
		d.errorf(n, "%s: %v", where, err)
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		d.errorf(n, "%s: body is not JSON-shaped (keys must be strings): %v", where, err)
		return
	}
	x.JSON = b
}

// Outcome kinds.
const (
	OutcomeBooked = "booked" // an appointment was booked
	OutcomeNone   = "none"   // the consumer found nothing to book and stopped cleanly
	OutcomeOK     = "ok"     // a slot search or appointment listing succeeded
	OutcomeError  = "error"  // the journey stopped at a hop's error
	// OutcomeCancelled and OutcomeAmended end the cancel and amend actions
	// (gpconnect-1.6.md §4.5, §4.4).
	OutcomeCancelled = "cancelled"
	OutcomeAmended   = "amended"
)

// Outcome is how the run must end: "booked", "none", "ok", "cancelled",
// "amended", or "error: {hop, status, code, reason}".
type Outcome struct {
	Kind  string
	Error *ErrorOutcome
}

// ErrorOutcome is the error a run must stop at.
type ErrorOutcome struct {
	At     At     `yaml:"-"`
	Hop    Hop    `yaml:"hop" scenario:"required"`
	Status int    `yaml:"status" scenario:"required"`
	Code   string `yaml:"code"`
	// Reason is why the consumer stopped, one of Reasons: what tells a
	// deceased patient from a restricted one when PDS answered 200 to both.
	Reason Enum `yaml:"reason" enum:"invalid-nhs-number,patient-not-found,invalidated,deceased,restricted,no-practice,unverified,no-endpoint,no-device,capability,slot-taken,booking-unknown,remote,transport,bad-response"`
}

// Reasons are the names an error outcome's reason may take, one per kind
// of failure the built-in consumer tells apart (internal/consumer's Err*
// kinds; "no free slots" is the outcome none, not an error).
var Reasons = []string{"invalid-nhs-number", "patient-not-found", "invalidated", "deceased", "restricted", "no-practice", "unverified",
	"no-endpoint", "no-device", "capability", "slot-taken", "booking-unknown", "remote", "transport", "bad-response"}

func (x *Outcome) decodeNode(d *decoder, n *yaml.Node, where string) {
	if n.Kind == yaml.ScalarNode {
		switch n.Value {
		case OutcomeBooked, OutcomeNone, OutcomeOK, OutcomeCancelled, OutcomeAmended:
			x.Kind = n.Value
		default:
			d.errorf(n, "%s: unknown outcome %q (want booked, none, ok, cancelled, amended or error: {hop, status, code, reason})", where, n.Value)
		}
		return
	}
	var w struct {
		At    At            `yaml:"-"`
		Error *ErrorOutcome `yaml:"error" scenario:"required"`
	}
	before := len(d.problems)
	d.decodeStruct(n, reflectValue(&w), where)
	if len(d.problems) > before || w.Error == nil {
		return
	}
	if w.Error.Status < 100 || w.Error.Status > 599 {
		d.errorAt(w.Error.At, "status", "%s.error.status: %d is not an HTTP status", where, w.Error.Status)
		return
	}
	x.Kind, x.Error = OutcomeError, w.Error
}
