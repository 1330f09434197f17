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

// defaultScenario is set in init: Load refers back to Default (for
// extends: builtin), which a package-level initialiser may not.
var defaultScenario func() *Scenario

func init() {
	defaultScenario = sync.OnceValue(func() *Scenario {
		s, err := Load("builtin.yaml", builtinYAML)
		if err != nil {
			panic("scenario: the embedded builtin.yaml is broken:\n" + err.Error())
		}
		return s
	})
}

// Default returns the built-in world: the patients of NHS's public PDS
// sandbox at two practices with two weeks of free slots. It panics only if
// the embedded file is broken, which the package's tests prove it is not.
// The result is shared: treat it as read-only.
func Default() *Scenario { return defaultScenario() }

// PinnedNow returns the time the scenario pins the clock to, if it does.
func (s *Scenario) PinnedNow() (time.Time, bool) {
	if s.Now == nil {
		return time.Time{}, false
	}
	return s.Now.Resolve(time.Time{}), true
}

// World resolves the scenario's relative dates against now (in
// Europe/London) and returns the world it describes. It fails only when a
// relative ordering checked at load no longer holds at now (a slot that
// would end before it starts), or when the scenario's slots are over the
// limits it was loaded with (a *LoadError): the slots are counted again
// before any is made, so a Scenario edited or built after loading cannot
// make a world too big to hold.
func (s *Scenario) World(now time.Time) (world.Data, error) {
	if probs := slotProblems(s, s.Limits()); len(probs) > 0 {
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
		wp, err := p.world(now)
		if err != nil {
			return world.Data{}, err
		}
		data.Practices = append(data.Practices, wp)
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

func (p Practice) world(now time.Time) (world.Practice, error) {
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
		if !end.After(start) {
			return world.Practice{}, fmt.Errorf("practice %s: slot %q ends (%s) before it starts (%s) at %s", p.ODS, s.ID, s.End.Text, s.Start.Text, now.Format(time.RFC3339))
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
		for i, id := range a.Slots {
			sl := &wp.Slots[slotAt[id]]
			if i == 0 || sl.Start.Before(wa.Start) {
				wa.Start = sl.Start
			}
			if i == 0 || sl.End.After(wa.End) {
				wa.End = sl.End
			}
			if wa.Status == world.Booked {
				sl.Status = world.Busy
			}
		}
		// Participants as a consumer would have sent them (gpconnect-1.6.md
		// §4.2): the patient, the schedule's location and practitioner.
		wa.Participants = []world.Participant{{Reference: "Patient/" + a.Patient, Status: "accepted"}}
		if sc, ok := schedules[wp.Slots[slotAt[a.Slots[0]]].Schedule]; ok {
			wa.Participants = append(wa.Participants, world.Participant{Reference: "Location/" + sc.Location, Status: "accepted"})
			if sc.Practitioner != "" {
				wa.Participants = append(wa.Participants, world.Participant{Reference: "Practitioner/" + sc.Practitioner, Status: "accepted"})
			}
		}
		wp.Appointments = append(wp.Appointments, wa)
	}
	return wp, nil
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
