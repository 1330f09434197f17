package provider

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/stu3"
	"github.com/spine-sandbox/spine-sandbox/internal/world"
)

// Text limits of GPConnect-Appointment-1 (§4.2, §4.4).
const (
	maxDescription = 100
	maxComment     = 500
)

// decodeAppointment reads an Appointment body: not JSON is 400 BAD_REQUEST;
// another resource type, an element the profile forbids (reason,
// specialty, appointmentType, indication, supportingInformation,
// incomingReferral, requestedPeriod, identifier.use/type/period/assigner)
// or a badly typed element is 422 INVALID_RESOURCE (§4.2).
//
// A request whose body the SSP's judge decoded already (Parsed) is read
// from that decode when the body read here is the one judged.
func decodeAppointment(r *request) (stu3.Appointment, error) {
	raw, err := readRaw(r)
	if err != nil {
		return stu3.Appointment{}, err
	}
	if p := parsedFor(r); p != nil && p.appt != nil && bytes.Equal(p.body, raw) {
		return *p.appt, nil
	}
	body, err := requestJSON(r.Header, raw)
	if err != nil {
		return stu3.Appointment{}, err
	}
	return decodeAppointmentBody(body)
}

// decodeAppointmentBody is decodeAppointment of a body already read and
// known to be JSON.
//
// The body is decoded first and its resourceType read from the result:
// when the decode succeeds, that is what stu3.ResourceTypeOf reads (the
// same decoder matching the same name), so only a body that does not
// decode is read for its resourceType apart — its errors still come in the
// same order.
func decodeAppointmentBody(body []byte) (stu3.Appointment, error) {
	var a stu3.Appointment
	err := json.Unmarshal(body, &a)
	rt := string(a.ResourceType)
	if err != nil {
		rt, _ = stu3.ResourceTypeOf(body)
	}
	if rt != "Appointment" {
		return stu3.Appointment{}, gpc.Errorf(gpc.InvalidResource, "Request body must be an Appointment resource, got %q", rt)
	}
	unknown, _ := stu3.UnknownFields(body, stu3.Appointment{})
	if len(unknown) > 0 {
		return stu3.Appointment{}, gpc.Errorf(gpc.InvalidResource, "Appointment carries elements GPConnect-Appointment-1 does not allow: %s", strings.Join(unknown, ", "))
	}
	if err != nil {
		return stu3.Appointment{}, gpc.Errorf(gpc.InvalidResource, "Appointment is not valid: %v", err)
	}
	return a, nil
}

// appointmentExtensions are the extensions GPConnect-Appointment-1 defines.
var appointmentExtensions = []string{gpc.ExtBookingOrganisation, gpc.ExtCancellationReason, gpc.ExtDeliveryChannel, gpc.ExtPractitionerRole}

// fhirIDRE is the syntax of a FHIR logical id (STU3 datatypes: id).
var fhirIDRE = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)

// parseDateTime reads a FHIR dateTime with seconds and an offset (§7.2).
func parseDateTime(field, v string) (time.Time, error) {
	if !dateTimeRE.MatchString(v) {
		return time.Time{}, gpc.Errorf(gpc.InvalidResource, "Appointment %s %q must be yyyy-mm-ddThh:mm:ss+hh:mm", field, v)
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, gpc.Errorf(gpc.InvalidResource, "Appointment %s %q is not a valid dateTime", field, v)
	}
	return t, nil
}

// checkedAppointment is what the profile checks found in a request body.
type checkedAppointment struct {
	start, end, created time.Time
	slots               []string
	participants        []world.Participant
	patient, location   string
	practitioner        string
	bookingOrg          stu3.Organization
	hasBookingOrg       bool
}

// checkAppointment applies GPConnect-Appointment-1's content rules (§4.2),
// shared by book, amend and cancel: profile, start/end/created, slot
// references, participants, the booking organisation, text lengths. status
// is checked by the caller.
//
// The booking organisation is required on a booking. On an amend or cancel
// it must be what the stored appointment holds, which for an appointment
// the practice made itself (none booked it through GP Connect) is nothing:
// sameBooking compares them.
func checkAppointment(a stu3.Appointment, booking bool) (checkedAppointment, error) {
	var c checkedAppointment
	if a.Meta == nil || !slices.Contains(a.Meta.Profile, gpc.ProfileAppointment) {
		return c, gpc.Errorf(gpc.InvalidResource, "Appointment meta.profile must be %s", gpc.ProfileAppointment)
	}
	// GPConnect-Appointment-1 defines four extensions; any other URL, a
	// misspelt cancellation reason's among them, is 422 INVALID_RESOURCE
	// (AppointmentCancel.feature "invalid cancellation extension url").
	for i, e := range a.Extension {
		if !slices.Contains(appointmentExtensions, e.URL) {
			return c, gpc.Errorf(gpc.InvalidResource, "Appointment extension[%d] url %q is not an extension of %s", i, e.URL, gpc.ProfileAppointment)
		}
	}
	// A business identifier carries a value (NHS's suite books with a
	// system and no value and expects 422 INVALID_RESOURCE,
	// AppointmentBook.feature "remove identifier value").
	for i, id := range a.Identifier {
		if strings.TrimSpace(id.Value) == "" {
			return c, gpc.Errorf(gpc.InvalidResource, "Appointment identifier[%d] has no value", i)
		}
	}
	var err error
	for _, f := range []struct {
		name, v string
		t       *time.Time
	}{{"start", a.Start, &c.start}, {"end", a.End, &c.end}, {"created", a.Created, &c.created}} {
		if f.v == "" {
			return c, gpc.Errorf(gpc.InvalidResource, "Appointment %s is required", f.name)
		}
		if *f.t, err = parseDateTime(f.name, f.v); err != nil {
			return c, err
		}
	}
	if !c.end.After(c.start) {
		return c, gpc.Errorf(gpc.InvalidResource, "Appointment end %s is not after start %s", a.End, a.Start)
	}
	if len(a.Slot) == 0 {
		return c, gpc.Errorf(gpc.InvalidResource, "Appointment must reference at least one Slot")
	}
	for i, ref := range a.Slot {
		typ, id, ok := ref.Split()
		if !ok || typ != "Slot" || !fhirIDRE.MatchString(id) {
			return c, gpc.Errorf(gpc.InvalidResource, "Appointment slot[%d] reference %q must be a relative Slot/{id}", i, ref.Reference)
		}
		c.slots = append(c.slots, id)
	}
	if utf8.RuneCountInString(a.Description) > maxDescription {
		return c, gpc.Errorf(gpc.InvalidResource, "Appointment description is %d characters; at most %d are allowed", utf8.RuneCountInString(a.Description), maxDescription)
	}
	if strings.TrimSpace(a.Description) == "" {
		return c, gpc.Errorf(gpc.InvalidResource, "Appointment description is required")
	}
	if utf8.RuneCountInString(a.Comment) > maxComment {
		return c, gpc.Errorf(gpc.InvalidResource, "Appointment comment is %d characters; at most %d are allowed", utf8.RuneCountInString(a.Comment), maxComment)
	}
	if len(a.Participant) == 0 {
		return c, gpc.Errorf(gpc.InvalidResource, "Appointment must have participants")
	}
	patients, locations, practitioners := 0, 0, 0
	for i, p := range a.Participant {
		if p.Actor == nil || p.Actor.Reference == "" {
			return c, gpc.Errorf(gpc.InvalidResource, "Appointment participant[%d] has no actor.reference", i)
		}
		if p.Status == "" {
			return c, gpc.Errorf(gpc.InvalidResource, "Appointment participant[%d] has no status", i)
		}
		typ, id, ok := p.Actor.Split()
		if !ok || !fhirIDRE.MatchString(id) {
			return c, gpc.Errorf(gpc.InvalidResource, "Appointment participant[%d] reference %q must be relative (Type/{id})", i, p.Actor.Reference)
		}
		switch typ {
		case "Patient":
			patients++
			c.patient = id
		case "Location":
			locations++
			c.location = id
		case "Practitioner":
			practitioners++
			c.practitioner = id
		default:
			return c, gpc.Errorf(gpc.InvalidResource, "Appointment participant[%d] %s is not a Patient, Location or Practitioner", i, p.Actor.Reference)
		}
		c.participants = append(c.participants, world.Participant{Reference: p.Actor.Reference, Status: p.Status})
	}
	switch {
	case patients != 1:
		return c, gpc.Errorf(gpc.InvalidResource, "Appointment must have exactly one Patient participant, got %d", patients)
	case locations != 1:
		return c, gpc.Errorf(gpc.InvalidResource, "Appointment must have one Location participant, got %d", locations)
	case practitioners > 1:
		return c, gpc.Errorf(gpc.InvalidResource, "Appointment must have at most one Practitioner participant, got %d", practitioners)
	}
	if !booking && stu3.FindExtension(a.Extension, gpc.ExtBookingOrganisation) == nil {
		return c, nil
	}
	org, err := bookingOrganisation(a)
	if err != nil {
		return c, err
	}
	c.bookingOrg, c.hasBookingOrg = org, true
	return c, nil
}

// bookingOrganisation finds and checks the contained booking organisation
// (§4.2): the extension references "#id" of a contained CareConnect-GPC-
// Organization-1 with an ODS identifier, a name and a telecom. Its type is
// required only when the consumer searched with an organisation type, which
// the provider cannot know, so a type is accepted when present and must then
// use the OrganisationType code system.
func bookingOrganisation(a stu3.Appointment) (stu3.Organization, error) {
	var exts []stu3.Extension
	for _, e := range a.Extension {
		if e.URL == gpc.ExtBookingOrganisation {
			exts = append(exts, e)
		}
	}
	if len(exts) != 1 {
		return stu3.Organization{}, gpc.Errorf(gpc.InvalidResource, "Appointment must have exactly one %s extension, got %d", gpc.ExtBookingOrganisation, len(exts))
	}
	ref := exts[0].ValueReference
	if ref == nil || !strings.HasPrefix(ref.Reference, "#") || len(ref.Reference) < 2 {
		return stu3.Organization{}, gpc.Errorf(gpc.InvalidResource, "Booking organisation extension must reference a contained Organization (#id)")
	}
	org := a.ContainedOrganization(ref.Reference[1:])
	if org == nil || org.ResourceType != "Organization" {
		return stu3.Organization{}, gpc.Errorf(gpc.InvalidResource, "Booking organisation %s is not a contained Organization", ref.Reference)
	}
	if org.Meta == nil || !slices.Contains(org.Meta.Profile, gpc.ProfileOrganization) {
		return stu3.Organization{}, gpc.Errorf(gpc.InvalidResource, "Booking organisation meta.profile must be %s", gpc.ProfileOrganization)
	}
	if id := stu3.FindIdentifier(org.Identifier, gpc.SystemODSCode); id == nil || id.Value == "" {
		return stu3.Organization{}, gpc.Errorf(gpc.InvalidResource, "Booking organisation must have an identifier with system %s", gpc.SystemODSCode)
	}
	if strings.TrimSpace(org.Name) == "" {
		return stu3.Organization{}, gpc.Errorf(gpc.InvalidResource, "Booking organisation must have a name")
	}
	if len(org.Telecom) == 0 {
		return stu3.Organization{}, gpc.Errorf(gpc.InvalidResource, "Booking organisation must have a telecom")
	}
	for i, t := range org.Type {
		for _, c := range t.Coding {
			if c.System != gpc.SystemOrgType || (c.Code != gpc.OrgTypeGPPractice && c.Code != gpc.OrgTypeUrgentCare) {
				return stu3.Organization{}, gpc.Errorf(gpc.InvalidResource, "Booking organisation type[%d] must be %s|%s or |%s, got %s|%s",
					i, gpc.SystemOrgType, gpc.OrgTypeGPPractice, gpc.OrgTypeUrgentCare, c.System, c.Code)
			}
		}
	}
	return *org, nil
}

func orgType(o stu3.Organization) string {
	for _, t := range o.Type {
		for _, c := range t.Coding {
			if c.System == gpc.SystemOrgType {
				return c.Code
			}
		}
	}
	return ""
}

// bookAppointment answers POST /Appointment (§4.2): the profile's rules,
// then world.Book; 201 with Location, ETag and Last-Modified.
func (s *server) bookAppointment(rw http.ResponseWriter, r *request) error {
	a, err := decodeAppointment(r)
	if err != nil {
		return err
	}
	c, err := bookingRules(a)
	if err != nil {
		return err
	}
	orgJSON, err := json.Marshal(c.bookingOrg)
	if err != nil {
		return err
	}
	booked, err := s.world.Book(r.practice.ODS, world.Booking{
		Patient:             c.patient,
		Slots:               c.slots,
		Start:               c.start,
		End:                 c.end,
		Location:            c.location,
		Practitioner:        c.practitioner,
		Description:         a.Description,
		Comment:             a.Comment,
		Created:             c.created,
		Participants:        c.participants,
		BookingOrganization: orgJSON,
		BookerODS:           stu3.FindIdentifier(c.bookingOrg.Identifier, gpc.SystemODSCode).Value,
		BookerOrgType:       orgType(c.bookingOrg),
	})
	if err != nil {
		return err
	}
	res := appointment(booked, s.contextOf(r.practice.ODS, booked))
	h := etag(res.Meta.VersionID)
	h.Set("Location", r.root+"/Appointment/"+booked.ID+"/_history/"+res.Meta.VersionID)
	h.Set("Last-Modified", booked.Updated.UTC().Format(http.TimeFormat))
	s.writeAppointment(rw, r, http.StatusCreated, res, h)
	return nil
}

// bookingRules are §4.2's rules for the Appointment a booking posts.
func bookingRules(a stu3.Appointment) (checkedAppointment, error) {
	if a.ID != "" {
		return checkedAppointment{}, gpc.Errorf(gpc.InvalidResource, "Appointment id must not be sent when booking")
	}
	if a.Status != world.Booked {
		return checkedAppointment{}, gpc.Errorf(gpc.InvalidResource, "Appointment status must be booked, got %q", a.Status)
	}
	return checkAppointment(a, true)
}

// amendRules are §4.4's rules for the Appointment an amend puts, beyond
// the content rules: it stays booked and carries no cancellation reason.
func amendRules(a stu3.Appointment) error {
	if a.Status != world.Booked {
		return gpc.Errorf(gpc.InvalidResource, "Appointment status must stay booked when amending (to cancel, use %s)", gpc.CancelAppointment)
	}
	if stu3.FindExtension(a.Extension, gpc.ExtCancellationReason) != nil {
		return gpc.Errorf(gpc.InvalidResource, "A cancellation reason must not be sent when amending")
	}
	return nil
}

// cancelRules are §4.5's rules for the Appointment a cancel puts, beyond
// the content rules: status cancelled and a cancellation reason (422
// INVALID_PARAMETER, test suite). It returns the reason.
func cancelRules(a stu3.Appointment) (string, error) {
	if a.Status != world.Cancelled {
		return "", gpc.Errorf(gpc.InvalidParameter, "Appointment status must be cancelled to cancel, got %q", a.Status)
	}
	ext := stu3.FindExtension(a.Extension, gpc.ExtCancellationReason)
	if ext == nil || strings.TrimSpace(ext.ValueString) == "" {
		return "", gpc.Errorf(gpc.InvalidParameter, "The %s extension with a valueString reason is required to cancel", gpc.ExtCancellationReason)
	}
	return ext.ValueString, nil
}

// writeAppointment honours Prefer: return=minimal (§1.3) on writes.
func (s *server) writeAppointment(rw http.ResponseWriter, r *request, status int, res stu3.Appointment, hdr http.Header) {
	if r.Method != http.MethodGet && strings.Contains(strings.ReplaceAll(r.Header.Get("Prefer"), " ", ""), "return=minimal") {
		for k, vs := range hdr {
			rw.Header()[k] = vs
		}
		rw.Header().Set("Cache-Control", "no-store")
		rw.WriteHeader(status)
		return
	}
	s.writeJSON(rw, r.Request, status, res, hdr)
}

// readAppointment answers GET /Appointment/{id} (§4.3): 404 for an unknown
// id; future appointments only.
func (s *server) readAppointment(rw http.ResponseWriter, r *request) error {
	id := lastSegment(r.path)
	a, ok := s.world.Appointment(r.practice.ODS, id)
	if !ok {
		return gpc.Errorf(gpc.NoRecordFound, "No appointment with id %s at this practice", id)
	}
	if a.Start.Before(s.world.Now()) {
		return gpc.Errorf(gpc.InvalidResource, "Appointment/%s is in the past; only future appointments can be read", id)
	}
	res := appointment(a, s.contextOf(r.practice.ODS, a))
	s.writeJSON(rw, r.Request, http.StatusOK, res, etag(res.Meta.VersionID))
	return nil
}

// ifMatch reads If-Match: W/"n". §4.4 and §4.5 say consumers SHALL send
// it, but a provider applies the version check only when it is sent (an
// HTTP precondition, RFC 9110 §13.1.1), and NHS's suite amends and cancels
// without one and expects the request to be processed; the sandbox records
// the omission as the consumer's fault (conformance FHIR_IF_MATCH_SENT)
// instead. present is false without the header. A value that is no
// version number can match nothing, so it is version -1 (409 from the
// world).
func ifMatch(r *request) (version int, present bool) {
	return ifMatchValue(r.Header.Get("If-Match"))
}

// ifMatchValue is ifMatch of the header's value.
func ifMatchValue(v string) (int, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	v = strings.Trim(strings.TrimPrefix(v, "W/"), `"`)
	n, err := strconv.Atoi(v)
	if err != nil {
		return -1, true
	}
	return n, true
}

// sameBooking reports the first element of a request that differs from the
// stored appointment, other than description, comment, status and the
// cancellation reason; "" when none does (§4.4, §4.5: nothing else may
// change).
func sameBooking(c checkedAppointment, cur world.Appointment) string {
	// Times are compared as the provider writes them (whole seconds,
	// §7.2): a client that echoes what it read has changed nothing.
	shown := func(t time.Time) time.Time { return t.Truncate(time.Second) }
	switch {
	case !c.start.Equal(shown(cur.Start)):
		return "start"
	case !c.end.Equal(shown(cur.End)):
		return "end"
	case !cur.Created.IsZero() && !c.created.Equal(shown(cur.Created)):
		return "created"
	case !slices.Equal(c.slots, cur.Slots):
		return "slot"
	case c.hasBookingOrg != (len(cur.BookingOrganization) > 0):
		return "booking organisation"
	}
	want := slices.Clone(cur.Participants)
	got := slices.Clone(c.participants)
	cmp := func(a, b world.Participant) int {
		return strings.Compare(a.Reference+"|"+a.Status, b.Reference+"|"+b.Status)
	}
	slices.SortFunc(want, cmp)
	slices.SortFunc(got, cmp)
	if !slices.Equal(want, got) {
		return "participant"
	}
	if len(cur.BookingOrganization) > 0 {
		var stored stu3.Organization
		if json.Unmarshal(cur.BookingOrganization, &stored) == nil {
			a := stu3.FindIdentifier(stored.Identifier, gpc.SystemODSCode)
			b := stu3.FindIdentifier(c.bookingOrg.Identifier, gpc.SystemODSCode)
			if a != nil && (b == nil || a.Value != b.Value) || stored.Name != c.bookingOrg.Name {
				return "booking organisation"
			}
		}
	}
	return ""
}

// changeRequest decodes and checks an amend or cancel body, and the id and
// If-Match it applies to.
func changeRequest(r *request) (string, world.Change, stu3.Appointment, checkedAppointment, error) {
	id := lastSegment(r.path)
	var ch world.Change
	var present bool
	ch.Version, present = ifMatch(r)
	ch.Unconditional = !present
	a, err := decodeAppointment(r)
	if err != nil {
		return "", ch, a, checkedAppointment{}, err
	}
	if a.ID != "" && a.ID != id {
		return "", ch, a, checkedAppointment{}, gpc.Errorf(gpc.BadRequest, "Appointment id %s in the body does not match %s in the URL", a.ID, id)
	}
	c, err := checkAppointment(a, false)
	return id, ch, a, c, err
}

// amendAppointment answers PUT /Appointment/{id} for the update interaction
// (§4.4): only description and comment may change.
func (s *server) amendAppointment(rw http.ResponseWriter, r *request) error {
	id, ch, a, c, err := changeRequest(r)
	if err != nil {
		return err
	}
	if err := amendRules(a); err != nil {
		return err
	}
	ch.Description, ch.Comment = a.Description, a.Comment
	ch.Check = func(cur world.Appointment) error {
		if f := sameBooking(c, cur); f != "" {
			return gpc.Errorf(gpc.InvalidResource, "Appointment %s may not be amended; only description and comment may change", f)
		}
		return nil
	}
	updated, err := s.world.Update(r.practice.ODS, id, ch)
	if err != nil {
		return err
	}
	res := appointment(updated, s.contextOf(r.practice.ODS, updated))
	s.writeAppointment(rw, r, http.StatusOK, res, etag(res.Meta.VersionID))
	return nil
}

// cancelAppointment answers PUT /Appointment/{id} for the cancel
// interaction (§4.5): status cancelled and the cancellation reason are
// required (422 INVALID_PARAMETER, test suite); nothing else may change.
func (s *server) cancelAppointment(rw http.ResponseWriter, r *request) error {
	id, ch, a, c, err := changeRequest(r)
	if err != nil {
		return err
	}
	reason, err := cancelRules(a)
	if err != nil {
		return err
	}
	ch.Cancel, ch.CancelReason = true, reason
	ch.Check = func(cur world.Appointment) error {
		f := sameBooking(c, cur)
		switch {
		case f != "":
		case a.Description != cur.Description:
			f = "description"
		case a.Comment != cur.Comment:
			f = "comment"
		default:
			return nil
		}
		return gpc.Errorf(gpc.InvalidResource, "Appointment %s may not change when cancelling; only status and the cancellation reason may", f)
	}
	updated, err := s.world.Update(r.practice.ODS, id, ch)
	if err != nil {
		return err
	}
	res := appointment(updated, s.contextOf(r.practice.ODS, updated))
	s.writeAppointment(rw, r, http.StatusOK, res, etag(res.Meta.VersionID))
	return nil
}

// appointmentRange applies §4.6's parameter rules that need no clock:
// start=ge{date} and start=le{date}, each exactly once, dates without a
// time, end not before start; every fault is 422 INVALID_PARAMETER.
func appointmentRange(q url.Values) ([2]time.Time, error) {
	var bounds [2]time.Time
	var ge, le []string
	for _, v := range q["start"] {
		switch {
		case strings.HasPrefix(v, "ge"):
			ge = append(ge, v[2:])
		case strings.HasPrefix(v, "le"):
			le = append(le, v[2:])
		default:
			return bounds, gpc.Errorf(gpc.InvalidParameter, "Search parameter start=%q must have the prefix ge or le", v)
		}
	}
	if len(ge) != 1 || len(le) != 1 {
		return bounds, gpc.Errorf(gpc.InvalidParameter, "Search parameters start=ge{date} and start=le{date} are both required, exactly once (got %d ge, %d le)", len(ge), len(le))
	}
	for i, v := range []string{ge[0], le[0]} {
		if !dateRE.MatchString(v) {
			return bounds, gpc.Errorf(gpc.InvalidParameter, "Search parameter start %q must be a date yyyy-mm-dd without a time", v)
		}
		t, err := time.ParseInLocation(time.DateOnly, v, london)
		if err != nil {
			return bounds, gpc.Errorf(gpc.InvalidParameter, "Search parameter start %q is not a valid date", v)
		}
		bounds[i] = t
	}
	if bounds[1].Before(bounds[0]) {
		return bounds, gpc.Errorf(gpc.InvalidParameter, "Search range end %s is before start %s", le[0], ge[0])
	}
	return bounds, nil
}

// patientAppointments answers GET /Patient/{id}/Appointment (§4.6): both
// start bounds, dates only, not in the past ("today" is the future), end
// not before start; every fault is 422 INVALID_PARAMETER. Cancelled
// appointments are included.
func (s *server) patientAppointments(rw http.ResponseWriter, r *request) error {
	id := strings.Split(strings.Trim(r.path, "/"), "/")[1]
	bounds, err := appointmentRange(r.URL.Query())
	if err != nil {
		return err
	}
	now := s.world.Now().In(london)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, london)
	if bounds[0].Before(today) {
		return gpc.Errorf(gpc.InvalidParameter, "Search range start %s is in the past; today is %s", bounds[0].Format(time.DateOnly), today.Format(time.DateOnly))
	}
	if _, ok := s.world.Record(r.practice.ODS, id); !ok {
		return gpc.Errorf(gpc.PatientNotFound, "No patient with id %s at this practice", id)
	}
	var out []any
	for _, a := range s.world.PatientAppointments(r.practice.ODS, id, bounds[0], bounds[1].AddDate(0, 0, 1)) {
		out = append(out, appointment(a, s.contextOf(r.practice.ODS, a)))
	}
	b, err := searchset("", out...)
	if err != nil {
		return err
	}
	s.writeJSON(rw, r.Request, http.StatusOK, b, nil)
	return nil
}
