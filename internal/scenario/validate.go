package scenario

import (
	"net/url"
	"slices"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/suggest"
)

// validate runs the checks that span values: references between sections,
// duplicates, ordering of times and combinations of keys. Decoding has
// already checked each value on its own.
func (d *decoder) validate(s *Scenario) {
	defer d.worldWarnings(s, s.Patients != nil, s.Practices != nil)
	// An extends that did not decode, or names no world, may have been
	// meant to bring the patients and practices the file refers to.
	baseUnknown := s.At.broken["extends"]
	switch s.Extends {
	case "":
		if s.Consumer == nil {
			d.wholeAt(s.At, []string{"consumer", "extends"}, "scenario: missing required key \"consumer\" (or write extends: builtin)")
		}
	case "builtin":
		if d.base == nil {
			break // the built-in world itself: it extends nothing
		}
		// A section the file leaves out comes from the built-in world; one
		// it wrote that did not decode is not replaced behind its problem.
		base := d.base()
		if s.Consumer == nil && !s.At.broken["consumer"] {
			s.Consumer = base.Consumer
		}
		if s.Patients == nil && !s.At.broken["patients"] {
			s.Patients = base.Patients
		}
		if s.Practices == nil && !s.At.broken["practices"] {
			s.Practices = base.Practices
		}
	default:
		d.errorAt(s.At, "extends", "scenario.extends: unknown world %q (want builtin)", s.Extends)
		baseUnknown = true
	}
	now := d.now
	if s.Now != nil {
		if !s.Now.Absolute() {
			d.errorAt(s.At, "now", "scenario.now: %q must be an absolute time such as 2026-12-01T09:00:00+00:00", s.Now.Text)
		} else {
			now = s.Now.Resolve(now)
		}
	}

	practices := map[ODSCode]*Practice{}
	// Every practice's ODS code decoded, so a reference to none of them
	// is a mistake of its own.
	allPractices := (s.Practices != nil || !s.At.broken["practices"]) && !baseUnknown
	asids := map[ASID]string{}
	if c := s.Consumer; c != nil {
		asids[c.ASID] = "the consumer"
	}
	partyKeys := map[string]bool{}
	for i := range s.Practices {
		p := &s.Practices[i]
		allPractices = allPractices && p.At.sound("ods")
		if practices[p.ODS] != nil {
			d.errorAt(p.At, "ods", "practices: ODS code %q listed twice", p.ODS)
		}
		practices[p.ODS] = p
		if who, dup := asids[p.ASID]; dup {
			d.errorAt(p.At, "asid", "practices: ASID %q is already used by %s", p.ASID, who)
		}
		asids[p.ASID] = "practice " + string(p.ODS)
		if partyKeys[p.PartyKey] {
			d.errorAt(p.At, "party_key", "practices: party key %q listed twice", p.PartyKey)
		}
		partyKeys[p.PartyKey] = true
		if p.Endpoint != "" {
			u, err := url.Parse(p.Endpoint)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				d.errorAt(p.At, "endpoint", "practices: endpoint %q is not an absolute http(s) URL", p.Endpoint)
			}
		}
		d.validatePractice(p)
	}

	patients := map[NHSNumber]*Patient{}
	allPatients := (s.Patients != nil || !s.At.broken["patients"]) && !baseUnknown // as allPractices
	for i := range s.Patients {
		p := &s.Patients[i]
		d.expandNHSRecord(p)
		allPatients = allPatients && p.At.sound("nhs_number")
		if patients[p.NHSNumber] != nil {
			d.errorAt(p.At, "nhs_number", "patients: NHS number %s listed twice", p.NHSNumber)
		}
		patients[p.NHSNumber] = p
		if p.Practice != "" && practices[p.Practice] == nil && allPractices {
			d.errorAt(p.At, "practice", "patients: practice %q of patient %s is not in practices%s", p.Practice, p.NHSNumber, suggest.Hint(string(p.Practice), odsCodes(s.Practices)))
		}
		if p.Version < 0 {
			d.errorAt(p.At, "version", "patients: version must not be negative")
		}
	}
	for _, p := range s.Patients {
		if p.SupersededBy == "" {
			continue
		}
		if p.SupersededBy == p.NHSNumber {
			d.errorAt(p.At, "superseded_by", "patients: patient %s cannot be superseded by itself", p.NHSNumber)
		} else if patients[p.SupersededBy] == nil && allPatients {
			d.errorAt(p.At, "superseded_by", "patients: superseded_by %s is not in patients%s", p.SupersededBy, suggest.Hint(string(p.SupersededBy), nhsNumbers(s.Patients)))
		}
	}

	for i := range s.Faults {
		d.validateFault(&s.Faults[i])
	}
	if s.Run != nil {
		d.validateRun(s.Run, now)
	}
	if e := s.Expect; e != nil {
		action := ""
		if s.Run != nil && s.Run.Consumer != "external" {
			action = string(s.Run.Action)
		}
		// What the run does is unknown when its action did not decode.
		runKnown := s.Run == nil || s.Run.At.sound("action", "consumer")
		for _, c := range []struct {
			key, action string
			n           *int
		}{{"slots", "slots", e.Slots}, {"appointments", "appointments", e.Appointments}} {
			switch {
			case c.n == nil:
			case *c.n < 0:
				d.errorAt(e.At, c.key, "expect.%s must not be negative", c.key)
			case action != c.action && runKnown:
				d.errorAt(e.At, c.key, "expect.%s counts what run.action %s finds; this run does not do %s", c.key, c.action, c.action)
			}
		}
		for _, r := range e.Requests {
			for _, ig := range r.Ignore {
				if ig == "" {
					d.errorAt(r.At, "ignore", "expect.requests: an ignore path must not be empty")
				}
			}
		}
		if c := e.Checks; c != nil {
			for _, n := range slices.Concat(c.Pass, c.Fire) {
				if n == "" {
					d.wholeAt(c.At, []string{"pass", "fire"}, "expect.checks: a check name must not be empty")
				}
			}
		}
	}
}

// refSet is the ids (or codes) a reference may name. It is partial when
// one of them did not decode: then every reference is taken as known, as
// the one that did not decode may be the one named, and its problem is
// reported already.
type refSet struct {
	m       map[string]bool
	partial bool
}

func (r refSet) has(v string) bool { return r.partial || r.m[v] }

// ids reports ids listed twice within one kind of a practice's resources.
func (d *decoder) ids(what string, ods ODSCode, n int, id func(int) (string, At)) refSet {
	seen := refSet{m: map[string]bool{}}
	for i := range n {
		v, at := id(i)
		if !at.sound("id") {
			seen.partial = true
			continue
		}
		if seen.m[v] {
			d.errorAt(at, "id", "practices[%s].%s: id %q listed twice", ods, what, v)
		}
		seen.m[v] = true
	}
	return seen
}

func (d *decoder) validatePractice(p *Practice) {
	ods := p.ODS
	locs := d.ids("locations", ods, len(p.Locations), func(i int) (string, At) { return p.Locations[i].ID, p.Locations[i].At })
	pracs := d.ids("practitioners", ods, len(p.Practitioners), func(i int) (string, At) { return p.Practitioners[i].ID, p.Practitioners[i].At })
	scheds := d.ids("schedules", ods, len(p.Schedules), func(i int) (string, At) { return p.Schedules[i].ID, p.Schedules[i].At })
	slots := d.ids("slots", ods, len(p.Slots), func(i int) (string, At) { return p.Slots[i].ID, p.Slots[i].At })
	recs := d.ids("records", ods, len(p.Records), func(i int) (string, At) { return p.Records[i].ID, p.Records[i].At })
	d.ids("appointments", ods, len(p.Appointments), func(i int) (string, At) { return p.Appointments[i].ID, p.Appointments[i].At })

	nhs := map[NHSNumber]bool{}
	for _, r := range p.Records {
		if nhs[r.NHSNumber] {
			d.errorAt(r.At, "nhs_number", "practices[%s].records: NHS number %s has two records", ods, r.NHSNumber)
		}
		nhs[r.NHSNumber] = true
		if r.PreferredBranch != "" && !locs.has(r.PreferredBranch) {
			d.errorAt(r.At, "preferred_branch", "practices[%s].records: preferred_branch %q is not a location of this practice", ods, r.PreferredBranch)
		}
	}
	for _, s := range p.Schedules {
		if !locs.has(s.Location) {
			d.errorAt(s.At, "location", "practices[%s].schedules: location %q of schedule %q is not a location of this practice", ods, s.Location, s.ID)
		}
		if s.Practitioner != "" && !pracs.has(s.Practitioner) {
			d.errorAt(s.At, "practitioner", "practices[%s].schedules: practitioner %q of schedule %q is not a practitioner of this practice", ods, s.Practitioner, s.ID)
		}
	}
	for _, s := range p.Slots {
		if !scheds.has(s.Schedule) {
			d.errorAt(s.At, "schedule", "practices[%s].slots: schedule %q of slot %q is not a schedule of this practice", ods, s.Schedule, s.ID)
		}
		switch {
		case s.End == nil && s.Length == 0:
			d.wholeAt(s.At, []string{"end", "length"}, "practices[%s].slots: slot %q needs end or length", ods, s.ID)
		case s.End != nil && s.Length != 0:
			d.errorAt(s.At, "length", "practices[%s].slots: slot %q has both end and length; give one", ods, s.ID)
		}
		// Whether it ends after it starts is the world's question, at
		// the clock it is built at (worldProblems).
	}
	for _, g := range p.Generate {
		d.validateGenerator(ods, g, scheds)
	}
	used := map[string]string{}
	for _, a := range p.Appointments {
		if !recs.has(a.Patient) {
			d.errorAt(a.At, "patient", "practices[%s].appointments: patient %q of appointment %q is not a record of this practice", ods, a.Patient, a.ID)
		}
		if len(a.Slots) == 0 {
			d.errorAt(a.At, "slots", "practices[%s].appointments: appointment %q needs at least one slot", ods, a.ID)
		}
		for _, id := range a.Slots {
			if !slots.has(id) {
				d.errorAt(a.At, "slots", "practices[%s].appointments: slot %q of appointment %q is not a listed slot of this practice (generated slots cannot be booked here)", ods, id, a.ID)
				continue
			}
			if a.Status == "cancelled" {
				continue
			}
			if other, dup := used[id]; dup {
				d.errorAt(a.At, "slots", "practices[%s].appointments: slot %q is booked by appointments %q and %q", ods, id, other, a.ID)
			}
			used[id] = a.ID
		}
	}
}

func (d *decoder) validateGenerator(ods ODSCode, g Generator, scheds refSet) {
	where := "practices[" + string(ods) + "].generate"
	if !scheds.has(g.Schedule) {
		d.errorAt(g.At, "schedule", "%s: schedule %q is not a schedule of this practice", where, g.Schedule)
	}
	if g.Days < 1 {
		d.errorAt(g.At, "days", "%s: days must be at least 1", where)
	}
	ranged := g.From != nil || g.Until != nil || g.Every != 0
	switch {
	case len(g.Times) > 0 && ranged:
		d.errorAt(g.At, "times", "%s: give times, or from/until/every, not both", where)
	case len(g.Times) > 0:
		if g.Length == 0 {
			d.wholeAt(g.At, []string{"times", "length"}, "%s: with times, length is required", where)
		}
	case ranged:
		if g.From == nil || g.Until == nil || g.Every == 0 {
			d.wholeAt(g.At, []string{"from", "until", "every"}, "%s: from, until and every go together", where)
		} else if g.Every.D() < time.Minute || g.Every.D()%time.Minute != 0 {
			d.errorAt(g.At, "every", "%s: every must be whole minutes, at least 1m", where)
		} else if *g.Until <= *g.From {
			d.errorAt(g.At, "until", "%s: until (%s) must be after from (%s)", where, *g.Until, *g.From)
		}
	default:
		d.wholeAt(g.At, []string{"times", "from", "until", "every"}, "%s: give times, or from, until and every", where)
	}
}

func (d *decoder) validateFault(f *Fault) {
	if f.Interaction != "" && f.At.sound("hop") {
		switch f.Hop {
		case HopPDS, HopSDS:
			if !slices.Contains(hopInteractions[f.Hop], f.Interaction) {
				d.errorAt(f.At, "interaction", "faults: %s has no interaction %q (want %s or %s)", f.Hop, f.Interaction, hopInteractions[f.Hop][0], hopInteractions[f.Hop][1])
			}
		default:
			in, ok := ParseInteraction(f.Interaction)
			if !ok {
				d.errorAt(f.At, "interaction", "faults: unknown interaction %q%s (use a name such as \"book appointment\" or a URN)", f.Interaction, interactionHint(f.Interaction))
			}
			f.Target = in
		}
	}
	if f.Status != 0 && (f.Status < 100 || f.Status > 599) {
		d.errorAt(f.At, "status", "faults: %d is not an HTTP status", f.Status)
	}
	if f.Body != nil && f.SpineCode != "" {
		d.errorAt(f.At, "spine_code", "faults: give body or spine_code, not both")
	}
	if f.Drop && (f.Status != 0 || f.Body != nil || f.SpineCode != "") {
		d.errorAt(f.At, "drop", "faults: a dropped connection has no status, body or spine_code")
	}
	if (f.Body != nil || f.SpineCode != "") && f.Status == 0 && !f.Drop {
		d.wholeAt(f.At, []string{"body", "spine_code", "status", "drop"}, "faults: a fault with a body or spine_code needs a status")
	}
	if f.Status == 0 && f.Body == nil && f.SpineCode == "" && f.Delay == 0 && !f.Drop {
		d.wholeAt(f.At, []string{"status", "body", "spine_code", "delay", "drop"}, "faults: the fault does nothing (give status, body, spine_code, delay or drop)")
	}
	if f.Times < 0 {
		d.errorAt(f.At, "times", "faults: times must not be negative")
	}
}

func (d *decoder) validateRun(r *Run, now time.Time) {
	if r.Consumer == "" {
		r.Consumer = "builtin"
	}
	if r.Consumer == "external" {
		if r.Action != "" || r.NHSNumber != "" {
			d.errorAt(r.At, "consumer", "run: an external consumer takes no action or nhs_number")
		}
		if r.Tamper != nil {
			d.errorAt(r.At, "tamper", "run: tamper edits the built-in consumer's requests; an external consumer sends its own")
		}
		return
	}
	if r.Action == "" {
		r.Action = "book"
	}
	switch {
	case r.Action == "slots" && r.NHSNumber == "" && r.ODS == "":
		d.wholeAt(r.At, []string{"action", "nhs_number", "ods", "consumer"}, "run: action slots needs nhs_number (to trace the registered practice) or ods")
	case r.Action != "slots" && r.NHSNumber == "":
		d.wholeAt(r.At, []string{"action", "nhs_number", "consumer"}, "run: action %s needs nhs_number", r.Action)
	}
	if r.Appointment != "" && r.Action != "cancel" && r.Action != "amend" && r.At.sound("action") {
		d.errorAt(r.At, "appointment", "run: appointment is for the cancel and amend actions, not %s", r.Action)
	}
	if r.From != nil && r.To != nil && !r.To.Resolve(now).After(r.From.Resolve(now)) {
		d.errorAt(r.At, "to", "run: to (%s) must be after from (%s)", r.To.Text, r.From.Text)
	}
	for _, k := range []struct {
		key string
		v   int
	}{{"search_windows", r.SearchWindows}, {"book_retries", r.BookRetries}, {"repeat", r.Repeat}} {
		if k.v < 0 {
			d.errorAt(r.At, k.key, "run: %s must not be negative", k.key)
		}
	}
	if p := r.Prefer; p != nil && p.First && p.Time != nil {
		d.errorAt(p.At, "time", "run.prefer: give first or time, not both")
	}
	for i := range r.Tamper {
		d.validateTamper(i, &r.Tamper[i])
	}
}

func odsCodes(ps []Practice) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = string(p.ODS)
	}
	return out
}

func nhsNumbers(ps []Patient) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = string(p.NHSNumber)
	}
	return out
}
