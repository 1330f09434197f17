package provider

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Europe/London must resolve on hosts without zoneinfo

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/stu3"
	"github.com/spine-sandbox/spine-sandbox/internal/world"
)

// london is UK local time: GP Connect dateTimes carry +00:00 or +01:00
// (§7.2).
var london = func() *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		panic("provider: Europe/London: " + err.Error()) // tzdata is embedded
	}
	return loc
}()

// dateTimeLayout is §7.2's yyyy-mm-ddThh:mm:ss+hh:mm.
const dateTimeLayout = "2006-01-02T15:04:05-07:00"

func localTime(t time.Time) string { return t.In(london).Format(dateTimeLayout) }

func meta(version int, profile string) *stu3.Meta {
	return &stu3.Meta{VersionID: strconv.Itoa(version), Profile: []string{profile}}
}

// staticVersion is the versionId of resources the world does not version
// (organisation, locations, practitioners, schedules, slots).
const staticVersion = 1

func telecoms(ts []world.Telecom) []stu3.ContactPoint {
	var out []stu3.ContactPoint
	for _, t := range ts {
		out = append(out, stu3.ContactPoint{System: t.System, Value: t.Value, Use: t.Use})
	}
	return out
}

func address(a world.Address) stu3.Address {
	return stu3.Address{Use: a.Use, Line: a.Lines, City: a.City, District: a.District, PostalCode: a.PostalCode}
}

// organization is the practice as CareConnect-GPC-Organization-1 (§3.5).
func organization(p world.Practice) stu3.Organization {
	o := stu3.Organization{
		ID:         p.OrganizationID,
		Meta:       meta(staticVersion, gpc.ProfileOrganization),
		Identifier: []stu3.Identifier{{System: gpc.SystemODSCode, Value: p.ODS}},
		Name:       p.Name,
		Telecom:    telecoms(p.Telecom),
	}
	if p.Address != nil {
		o.Address = stu3.List[stu3.Address]{address(*p.Address)}
	}
	return o
}

// location is a surgery as CareConnect-GPC-Location-1 (§3.5): name and
// managingOrganization always, address and telecom where held.
func location(p world.Practice, l world.Location) stu3.Location {
	loc := stu3.Location{
		ID:                   l.ID,
		Meta:                 meta(staticVersion, gpc.ProfileLocation),
		Name:                 l.Name,
		Telecom:              telecoms(l.Telecom),
		ManagingOrganization: &stu3.Reference{Reference: "Organization/" + p.OrganizationID},
	}
	if l.SiteCode != "" {
		loc.Identifier = []stu3.Identifier{{System: gpc.SystemODSSite, Value: l.SiteCode}}
	}
	if l.Address != nil {
		a := address(*l.Address)
		loc.Address = &a
	}
	return loc
}

// practitioner is CareConnect-GPC-Practitioner-1 (§3.5): no telecom,
// address, birthDate, photo or qualification.
func practitioner(pr world.Practitioner) stu3.Practitioner {
	out := stu3.Practitioner{
		ID:     pr.ID,
		Meta:   meta(staticVersion, gpc.ProfilePractitioner),
		Name:   []stu3.HumanName{{Family: pr.Name.Family, Given: pr.Name.Given, Prefix: pr.Name.Prefix}},
		Gender: pr.Gender,
	}
	if pr.SDSUserID != "" {
		out.Identifier = []stu3.Identifier{{System: gpc.SystemSDSUserID, Value: pr.SDSUserID}}
	}
	return out
}

func roleExtension(pr *world.Practitioner) []stu3.Extension {
	if pr == nil || pr.RoleCode == "" {
		return nil
	}
	return []stu3.Extension{{URL: gpc.ExtPractitionerRole, ValueCodeableConcept: &stu3.CodeableConcept{
		Coding: []stu3.Coding{{System: gpc.SystemJobRole, Code: pr.RoleCode, Display: pr.RoleDisplay}},
	}}}
}

// schedule is GPConnect-Schedule-1 (§4.1): Location (and Practitioner)
// actors, planning horizon, serviceCategory text and the practitioner role.
func schedule(sc world.Schedule, pr *world.Practitioner, horizon stu3.Period) stu3.Schedule {
	out := stu3.Schedule{
		ID:              sc.ID,
		Meta:            meta(staticVersion, gpc.ProfileSchedule),
		Extension:       roleExtension(pr),
		Actor:           []stu3.Reference{stu3.Ref("Location", sc.Location)},
		PlanningHorizon: &horizon,
	}
	if sc.ServiceCategory != "" {
		out.ServiceCategory = &stu3.CodeableConcept{Text: sc.ServiceCategory}
	}
	if sc.Practitioner != "" {
		out.Actor = append(out.Actor, stu3.Ref("Practitioner", sc.Practitioner))
	}
	return out
}

// slot is GPConnect-Slot-1 (§4.1): delivery channel, serviceType text, no
// specialty.
func slot(s world.Slot) stu3.Slot {
	out := stu3.Slot{
		ID:       s.ID,
		Meta:     meta(staticVersion, gpc.ProfileSlot),
		Schedule: &stu3.Reference{Reference: "Schedule/" + s.Schedule},
		Status:   s.Status,
		Start:    localTime(s.Start),
		End:      localTime(s.End),
	}
	if s.DeliveryChannel != "" {
		out.Extension = []stu3.Extension{{URL: gpc.ExtDeliveryChannel, ValueCode: s.DeliveryChannel}}
	}
	if s.ServiceType != "" {
		out.ServiceType = []stu3.CodeableConcept{{Text: s.ServiceType}}
	}
	return out
}

// patient is CareConnect-GPC-Patient-1 (§3.2, §3.3): registration details,
// the verified NHS number, one official name, demographics from the record
// or else PDS, and the practice as managingOrganization.
func patient(p world.Practice, r world.Record, pds world.Patient) stu3.Patient {
	reg := stu3.Extension{URL: gpc.ExtRegistrationDetails}
	if !r.RegistrationStart.IsZero() {
		reg.Extension = append(reg.Extension, stu3.Extension{URL: "registrationPeriod",
			ValuePeriod: &stu3.Period{Start: localTime(r.RegistrationStart)}})
	}
	if r.RegistrationType != "" {
		reg.Extension = append(reg.Extension, stu3.Extension{URL: "registrationType",
			ValueCodeableConcept: &stu3.CodeableConcept{Coding: []stu3.Coding{{System: gpc.SystemRegistrationType, Code: r.RegistrationType}}}})
	}
	if r.PreferredBranch != "" {
		reg.Extension = append(reg.Extension, stu3.Extension{URL: "preferredBranchSurgery",
			ValueReference: &stu3.Reference{Reference: "Location/" + r.PreferredBranch}})
	}
	active := true
	out := stu3.Patient{
		ID:   r.ID,
		Meta: meta(r.VersionID, gpc.ProfilePatient),
		Identifier: []stu3.Identifier{{
			Extension: []stu3.Extension{{URL: gpc.ExtNHSNumberVerification, ValueCodeableConcept: &stu3.CodeableConcept{
				Coding: []stu3.Coding{{System: systemNHSNumberVerification, Code: "01", Display: "Number present and verified"}},
			}}},
			System: gpc.SystemNHSNumber,
			Value:  r.NHSNumber,
		}},
		Active:               &active,
		Gender:               firstNonEmpty(r.Gender, pds.Gender),
		BirthDate:            firstNonEmpty(r.BirthDate, pds.BirthDate),
		ManagingOrganization: &stu3.Reference{Reference: "Organization/" + p.OrganizationID},
	}
	if len(reg.Extension) > 0 {
		out.Extension = []stu3.Extension{reg}
	}
	name := r.Name
	if name == nil {
		name = pds.Name
	}
	if name != nil {
		out.Name = []stu3.HumanName{{Use: "official", Text: nameText(*name), Family: name.Family, Given: name.Given, Prefix: name.Prefix}}
	}
	ts := r.Telecom
	if len(ts) == 0 {
		ts = pds.Telecom
	}
	out.Telecom = telecoms(ts)
	as := r.Address
	if len(as) == 0 {
		as = pds.Address
	}
	for _, a := range as {
		sa := address(a)
		sa.Type = "physical" // a postal-and-physical home as the examples show
		out.Address = append(out.Address, sa)
	}
	return out
}

// systemNHSNumberVerification is the NHS number verification status code
// system the examples use.
const systemNHSNumberVerification = "https://fhir.nhs.uk/CareConnect-NHSNumberVerificationStatus-1"

// nameText is the display form the examples use: "JACKSON Jane (Miss)".
func nameText(n world.Name) string {
	parts := []string{strings.ToUpper(n.Family)}
	parts = append(parts, n.Given...)
	s := strings.Join(parts, " ")
	if len(n.Prefix) > 0 {
		s += " (" + strings.Join(n.Prefix, " ") + ")"
	}
	return s
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// appointmentContext is what an Appointment borrows from its slots and
// schedule (§4.2 success: practitioner role, delivery channel, serviceType,
// serviceCategory).
type appointmentContext struct {
	slot         *world.Slot
	schedule     *world.Schedule
	practitioner *world.Practitioner
}

func (s *server) contextOf(ods string, a world.Appointment) appointmentContext {
	var c appointmentContext
	ix := s.index[ods]
	if ix == nil || len(a.Slots) == 0 {
		return c
	}
	// A slot's schedule, times, channel and type never change (only its
	// status does, which is not used here): the world's copy is the
	// booking's, and the provider keeps no copy of every slot.
	sl, ok := s.world.Slot(ods, a.Slots[0])
	if !ok {
		return c
	}
	c.slot = &sl
	if sc, ok := ix.schedules[sl.Schedule]; ok {
		c.schedule = &sc
		if pr, ok := ix.practitioners[sc.Practitioner]; ok {
			c.practitioner = &pr
		}
	}
	return c
}

// practiceIndex holds what never changes in a practice — its metadata,
// service root, schedules and practitioners — so that a request and the
// rendering of an appointment copy none of them. Slots are read from the
// world (World.Slot): a copy of every slot per provider was most of what
// making a session cost.
type practiceIndex struct {
	// practice is the practice's metadata and root its service root, read
	// once: a world never changes either, and copying every practitioner
	// and location on each request cost more than the check it served.
	// Handlers only read them.
	practice      world.Practice
	root          string
	schedules     map[string]world.Schedule
	practitioners map[string]world.Practitioner
}

func indexPractices(w *world.World) map[string]*practiceIndex {
	out := map[string]*practiceIndex{}
	for _, p := range w.Practices() {
		ix := &practiceIndex{practice: p, root: w.ServiceRoot(p), schedules: map[string]world.Schedule{}, practitioners: map[string]world.Practitioner{}}
		for _, sc := range w.Schedules(p.ODS) {
			ix.schedules[sc.ID] = sc
		}
		for _, pr := range w.Practitioners(p.ODS) {
			ix.practitioners[pr.ID] = pr
		}
		out[p.ODS] = ix
	}
	return out
}

// appointment is GPConnect-Appointment-1 as stored (§4.2–§4.6): booking
// organisation contained and referenced, the cancellation reason when
// cancelled, then the extensions and texts taken from slot and schedule.
func appointment(a world.Appointment, c appointmentContext) stu3.Appointment {
	out := stu3.Appointment{
		ID:          a.ID,
		Meta:        meta(a.VersionID, gpc.ProfileAppointment),
		Status:      a.Status,
		Description: a.Description,
		Start:       localTime(a.Start),
		End:         localTime(a.End),
		Created:     localTime(a.Created),
		Comment:     a.Comment,
	}
	if len(a.BookingOrganization) > 0 {
		var org stu3.Organization
		if json.Unmarshal(a.BookingOrganization, &org) == nil {
			out.Contained = []stu3.Organization{org}
			out.Extension = append(out.Extension, stu3.Extension{URL: gpc.ExtBookingOrganisation,
				ValueReference: &stu3.Reference{Reference: "#" + org.ID}})
		}
	}
	if a.Status == world.Cancelled && a.CancellationReason != "" {
		out.Extension = append(out.Extension, stu3.Extension{URL: gpc.ExtCancellationReason, ValueString: a.CancellationReason})
	}
	out.Extension = append(out.Extension, roleExtension(c.practitioner)...)
	if c.slot != nil && c.slot.DeliveryChannel != "" {
		out.Extension = append(out.Extension, stu3.Extension{URL: gpc.ExtDeliveryChannel, ValueCode: c.slot.DeliveryChannel})
	}
	if c.schedule != nil && c.schedule.ServiceCategory != "" {
		out.ServiceCategory = &stu3.CodeableConcept{Text: c.schedule.ServiceCategory}
	}
	if c.slot != nil && c.slot.ServiceType != "" {
		out.ServiceType = []stu3.CodeableConcept{{Text: c.slot.ServiceType}}
	}
	for _, id := range a.Slots {
		out.Slot = append(out.Slot, stu3.Ref("Slot", id))
	}
	for _, p := range a.Participants {
		out.Participant = append(out.Participant, stu3.AppointmentParticipant{
			Actor: &stu3.Reference{Reference: p.Reference}, Status: p.Status,
		})
	}
	return out
}

// searchset is a searchset Bundle of resources, entries holding only the
// resource as the spec's examples do.
func searchset(profile string, resources ...any) (*stu3.Bundle, error) {
	b := stu3.NewSearchset(profile)
	for _, r := range resources {
		if err := b.Add("", r, ""); err != nil {
			return nil, err
		}
	}
	return b, nil
}
