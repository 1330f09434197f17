package scenario

import (
	_ "embed"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/world"
)

//go:embed builtin.yaml
var builtinYAML []byte

// builtin parses the embedded built-in world on first use. It is loaded
// without a base world (it extends nothing), which is also what keeps its
// initialiser from referring back to itself through Load.
var builtin = sync.OnceValue(func() *Scenario {
	s, probs := load("builtin.yaml", builtinYAML, Options{}.withDefaults(), nil)
	if len(probs) > 0 {
		panic("scenario: the embedded builtin.yaml is broken:\n" + (&LoadError{Problems: probs}).Error())
	}
	return s
})

// Default returns the built-in world: the patients of NHS's public PDS
// sandbox at two practices with two weeks of free slots, parsed on first
// use. It panics only if the embedded file is broken, which the package's
// tests prove it is not. The result is shared: treat it as read-only.
func Default() *Scenario { return builtin() }

// PinnedNow returns the time the scenario pins the clock to, if it does.
func (s *Scenario) PinnedNow() (time.Time, bool) {
	if s.Now == nil {
		return time.Time{}, false
	}
	return s.Now.Resolve(time.Time{}), true
}

// WorldProblems are the reasons World(now) would fail, found without
// building anything: what a caller with other problems to report adds to
// them instead of building the world.
func (s *Scenario) WorldProblems(now time.Time) []Problem {
	return s.worldProblems(now, " at "+now.Format(time.RFC3339))
}

// pinnedOr is the scenario's pinned time, or now when it pins none.
func (s *Scenario) pinnedOr(now time.Time) time.Time {
	if s.Now != nil && s.Now.Absolute() {
		return s.Now.Resolve(now)
	}
	return now
}

// worldProblems are the reasons the world could not be built at now: the
// slots over the limits the scenario was loaded with (counted, not made),
// and listed slots that would end before or when they start. It is the
// last stage of a load (at the load's clock) and the first step of World
// (at the session's), so what loads builds, and what cannot be built is
// reported at its line and column. A slot whose start, end or length did
// not decode was reported already and is left out. at, when set, is added
// to the message: World is asked at a clock the file does not show.
func (s *Scenario) worldProblems(now time.Time, at string) []Problem {
	probs := slotProblems(s, s.Limits())
	for _, pr := range s.Practices {
		for _, sl := range pr.Slots {
			if sl.At.decoded && (!sl.At.sound("start", "end", "length") || (sl.End == nil && sl.Length == 0)) {
				continue // validate reported it
			}
			start := sl.Start.Resolve(now)
			end, endText := start.Add(sl.Length.D()), "start + "+time.Duration(sl.Length).String()
			if sl.End != nil {
				end, endText = sl.End.Resolve(now), sl.End.Text
			}
			if !end.After(start) {
				key := "end"
				if sl.End == nil {
					key = "length"
				}
				pos, file := sl.At.Of(key), sl.At.file
				if file == "" {
					file = s.File
				}
				probs = append(probs, Problem{file, pos.Line, pos.Column, fmt.Sprintf("practices[%s].slots: slot %q ends (%s) before or when it starts (%s)%s", pr.ODS, sl.ID, endText, sl.Start.Text, at)})
			}
		}
	}
	return probs
}

// World resolves the scenario's relative dates against now (in
// Europe/London) and returns the world it describes. It fails, with a
// *LoadError at the scenario's lines and columns, only for what a load
// checks at its own clock and that can differ at now (worldProblems): a
// relative ordering that no longer holds (a slot that would end before it
// starts), or slots over the limits the scenario was loaded with, counted
// again before any is made so that a Scenario edited or built after
// loading cannot make a world too big to hold.
func (s *Scenario) World(now time.Time) (world.Data, error) {
	if probs := s.WorldProblems(now); len(probs) > 0 {
		SortProblems(probs)
		return world.Data{}, &LoadError{Problems: probs}
	}
	var data world.Data
	if c := s.Consumer; c != nil {
		data.Consumer = world.ConsumerSystem{
			ASID:         string(c.ASID),
			ODS:          string(c.ODS),
			Name:         c.Name,
			PartyKey:     c.PartyKey,
			Manufacturer: string(c.Manufacturer),
			Interactions: c.Interactions.Resolve(),
			FQDN:         c.FQDN,
		}
	}
	for _, p := range s.Patients {
		data.Patients = append(data.Patients, p.world())
	}
	for _, p := range s.Practices {
		data.Practices = append(data.Practices, p.world(now))
	}
	return data, nil
}

func (p Patient) world() world.Patient {
	wp := world.Patient{
		NHSNumber:    string(p.NHSNumber),
		Name:         p.Name.world(),
		BirthDate:    string(p.BirthDate),
		Gender:       string(p.Gender),
		Practice:     string(p.Practice),
		Restricted:   p.Restricted,
		Deceased:     string(p.Deceased),
		SupersededBy: string(p.SupersededBy),
		Invalidated:  p.Invalidated,
		Address:      addresses(p.Address),
		Telecom:      telecoms(p.Telecom),
		VersionID:    p.Version,
		Resource:     slices.Clone(p.resource),
	}
	if p.search != nil {
		sp := p.search.world()
		wp.Search = &sp
	}
	return wp
}

func (n *Name) world() *world.Name {
	if n == nil {
		return nil
	}
	return &world.Name{Prefix: slices.Clone(n.Prefix), Given: slices.Clone(n.Given), Family: n.Family}
}

func (a *Address) world() *world.Address {
	if a == nil {
		return nil
	}
	return &world.Address{Use: string(a.Use), Lines: slices.Clone(a.Lines), City: a.City, District: a.District, PostalCode: a.PostalCode}
}

func addresses(as []Address) []world.Address {
	var out []world.Address
	for _, a := range as {
		out = append(out, *a.world())
	}
	return out
}

func telecoms(ts []Telecom) []world.Telecom {
	var out []world.Telecom
	for _, t := range ts {
		out = append(out, world.Telecom{System: string(t.System), Value: t.Value, Use: string(t.Use)})
	}
	return out
}

func strs[T ~string](xs []T) []string {
	var out []string
	for _, x := range xs {
		out = append(out, string(x))
	}
	return out
}

// world builds the practice; World has checked what could fail.
func (p Practice) world(now time.Time) world.Practice {
	wp := world.Practice{
		ODS:            string(p.ODS),
		Name:           p.Name,
		Address:        p.Address.world(),
		Telecom:        telecoms(p.Telecom),
		OrganizationID: p.OrganizationID,
		ProviderASID:   string(p.ASID),
		PartyKey:       p.PartyKey,
		Endpoint:       p.Endpoint,
		Interactions:   p.Interactions.Resolve(),
		FQDN:           p.FQDN,
	}
	for _, a := range p.RefuseSenders {
		wp.RefusedSenders = append(wp.RefusedSenders, string(a))
	}
	for _, r := range p.Records {
		wr := world.Record{
			ID:               r.ID,
			NHSNumber:        string(r.NHSNumber),
			State:            string(r.State),
			RegistrationType: string(r.RegistrationType),
			Unverified:       r.Unverified,
			PreferredBranch:  r.PreferredBranch,
		}
		if r.Registered != nil {
			wr.RegistrationStart = r.Registered.Resolve(now)
		}
		if dm := r.Demographics; dm != nil {
			wr.Name = dm.Name.world()
			wr.BirthDate = string(dm.BirthDate)
			wr.Gender = string(dm.Gender)
			wr.Address = addresses(dm.Address)
			wr.Telecom = telecoms(dm.Telecom)
		}
		wp.Records = append(wp.Records, wr)
	}
	for _, l := range p.Locations {
		wp.Locations = append(wp.Locations, world.Location{ID: l.ID, Name: l.Name, SiteCode: string(l.SiteCode), Address: l.Address.world(), Telecom: telecoms(l.Telecom)})
	}
	for _, pr := range p.Practitioners {
		wp.Practitioners = append(wp.Practitioners, world.Practitioner{
			ID: pr.ID, SDSUserID: pr.SDSUserID, Name: *pr.Name.world(), Gender: string(pr.Gender),
			RoleCode: pr.RoleCode, RoleDisplay: pr.RoleDisplay,
		})
	}
	schedules := map[string]Schedule{}
	for _, s := range p.Schedules {
		schedules[s.ID] = s
		wp.Schedules = append(wp.Schedules, world.Schedule{ID: s.ID, Location: s.Location, Practitioner: s.Practitioner, ServiceCategory: s.ServiceCategory})
	}
	slotAt := map[string]int{}
	for _, s := range p.Slots {
		start := s.Start.Resolve(now)
		end := start.Add(s.Length.D())
		if s.End != nil {
			end = s.End.Resolve(now)
		}
		slotAt[s.ID] = len(wp.Slots)
		wp.Slots = append(wp.Slots, world.Slot{
			ID: s.ID, Schedule: s.Schedule, Start: start, End: end, Status: string(s.Status),
			DeliveryChannel: string(s.Channel), ServiceType: s.Type,
			OrgTypes: strs(s.OrgTypes), ODSCodes: strs(s.ODSCodes),
		})
	}
	taken := map[string]bool{}
	for id := range slotAt {
		taken[id] = true
	}
	next := 0
	for _, g := range p.Generate {
		for _, sl := range g.slots(now) {
			for {
				next++
				if id := strconv.Itoa(next); !taken[id] {
					sl.ID = id
					break
				}
			}
			wp.Slots = append(wp.Slots, sl)
		}
	}
	for _, a := range p.Appointments {
		wa := world.Appointment{
			ID: a.ID, Status: string(a.Status), Patient: a.Patient, Slots: slices.Clone(a.Slots),
			Description: a.Description, Comment: a.Comment, CancellationReason: a.CancellationReason,
			// Whole seconds, as a provider's record of it would show.
			Created: now.Truncate(time.Second), Updated: now,
		}
		if wa.Status == "" {
			wa.Status = world.Booked
		}
		if a.Created != nil {
			wa.Created = a.Created.Resolve(now).Truncate(time.Second)
		}
		first := ""
		for _, id := range a.Slots {
			i, ok := slotAt[id]
			if !ok {
				continue // not a listed slot: validate refuses it at load
			}
			sl := &wp.Slots[i]
			if first == "" {
				first = id
			}
			if first == id || sl.Start.Before(wa.Start) {
				wa.Start = sl.Start
			}
			if first == id || sl.End.After(wa.End) {
				wa.End = sl.End
			}
			if wa.Status == world.Booked {
				sl.Status = world.Busy
			}
		}
		// Participants as a consumer would have sent them (gpconnect-1.6.md
		// §4.2): the patient, the schedule's location and practitioner.
		wa.Participants = []world.Participant{{Reference: "Patient/" + a.Patient, Status: "accepted"}}
		if sc, ok := schedules[slotSchedule(wp.Slots, slotAt, first)]; ok {
			wa.Participants = append(wa.Participants, world.Participant{Reference: "Location/" + sc.Location, Status: "accepted"})
			if sc.Practitioner != "" {
				wa.Participants = append(wa.Participants, world.Participant{Reference: "Practitioner/" + sc.Practitioner, Status: "accepted"})
			}
		}
		wp.Appointments = append(wp.Appointments, wa)
	}
	return wp
}

// slotSchedule is the schedule of the listed slot id, "" when it is not
// one.
func slotSchedule(slots []world.Slot, at map[string]int, id string) string {
	if i, ok := at[id]; ok {
		return slots[i].Schedule
	}
	return ""
}

// slots expands a generator at now: for each day from Start (default
// tomorrow) for Days days, skipping weekends when asked, one slot per time
// of day. Slot IDs are left for the caller to number.
func (g Generator) slots(now time.Time) []world.Slot {
	first := When{kind: whenDays, days: 1}
	if g.Start != nil {
		first = *g.Start
	}
	day := first.Resolve(now).In(London)
	y, m, d := day.Date()
	times := slices.Clone(g.Times)
	if len(times) == 0 {
		step := TimeOfDay(g.Every.D() / time.Minute) // validated: at least one minute
		for t := *g.From; t < *g.Until; t += step {
			times = append(times, t)
		}
	}
	length := g.Length.D()
	if length == 0 {
		length = g.Every.D()
	}
	var out []world.Slot
	for i := range g.Days {
		date := time.Date(y, m, d+i, 0, 0, 0, 0, London)
		if g.WeekdaysOnly && (date.Weekday() == time.Saturday || date.Weekday() == time.Sunday) {
			continue
		}
		for _, t := range times {
			start := time.Date(y, m, d+i, int(t)/60, int(t)%60, 0, 0, London)
			out = append(out, world.Slot{
				Schedule: g.Schedule, Start: start, End: start.Add(length), Status: string(g.Status),
				DeliveryChannel: string(g.Channel), ServiceType: g.Type,
				OrgTypes: strs(g.OrgTypes), ODSCodes: strs(g.ODSCodes),
			})
		}
	}
	return out
}
