package consumer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/stu3"
)

// Capability fetches the provider's capability statement (3a–3d), cached on
// the Client per service root for CapabilityTTL, and checks it offers what
// the booking journey needs (gpconnect-1.6.md §3.1).
func (s *Session) Capability(ctx context.Context, ods string) (*stu3.CapabilityStatement, error) {
	ep, err := s.Endpoint(ctx, ods, gpc.ReadMetadata)
	if err != nil {
		return nil, err
	}
	cl := s.c
	now := cl.cfg.Now()
	cl.mu.Lock()
	ce, ok := cl.caps[ep.Address]
	cl.mu.Unlock()
	if ok && now.Sub(ce.fetched) < cl.cfg.CapabilityTTL {
		return ce.cs, nil
	}
	c := cl.sspCall("3a", ep, http.MethodGet, "/metadata", nil, nil, nil)
	resp, err := cl.do(ctx, c)
	if err != nil {
		return nil, err
	}
	defer resp.release()
	var cs stu3.CapabilityStatement
	if err := unmarshal(resp.body, &cs); err != nil || cs.ResourceType != "CapabilityStatement" {
		return nil, badResponse(c, resp.status, "answer is not a CapabilityStatement")
	}
	if missing := lacks(&cs); len(missing) > 0 {
		return nil, &Error{Kind: ErrCapability, Hop: HopProvider, Step: "3a", Interaction: string(ep.Interaction), Status: resp.status,
			Diagnostics: "capability statement lacks " + strings.Join(missing, ", ")}
	}
	cl.mu.Lock()
	cl.caps[ep.Address] = capEntry{cs: &cs, fetched: now}
	cl.mu.Unlock()
	return &cs, nil
}

// lacks lists what the journey needs and cs does not offer.
func lacks(cs *stu3.CapabilityStatement) []string {
	var out []string
	has := func(typ, code string) {
		r := cs.Resource(typ)
		if r != nil {
			for _, in := range r.Interaction {
				if in.Code == code {
					return
				}
			}
		}
		out = append(out, typ+" "+code)
	}
	has("Slot", "search-type")
	has("Appointment", "create")
	has("Patient", "search-type")
	found := false
	for _, r := range cs.Rest {
		for _, op := range r.Operation {
			if op.Name == "gpc.registerpatient" {
				found = true
			}
		}
	}
	if !found {
		out = append(out, "operation gpc.registerpatient")
	}
	return out
}

// Slot is one free slot with what the consumer must show about it
// (gpconnect-1.6.md §4.1).
type Slot struct {
	ID             string    `json:"id"`
	Start          string    `json:"start"` // as the provider wrote it
	End            string    `json:"end"`
	StartTime      time.Time `json:"-"`
	EndTime        time.Time `json:"-"`
	ScheduleID     string    `json:"schedule_id,omitempty"`
	LocationID     string    `json:"location_id,omitempty"`
	LocationName   string    `json:"location,omitempty"`
	PractitionerID string    `json:"practitioner_id,omitempty"`
	Practitioner   string    `json:"practitioner,omitempty"`
	Channel        string    `json:"channel,omitempty"`       // delivery channel
	SlotType       string    `json:"slot_type,omitempty"`     // Slot.serviceType text
	ScheduleType   string    `json:"schedule_type,omitempty"` // Schedule.serviceCategory text
}

// Slots is one slot search's result.
type Slots struct {
	Slots        []Slot // sorted by start
	Organization *stu3.Organization
}

// SearchSlots searches free slots in [from, to] (dates, at most 14 days
// apart) at the practice ods (4a–4d), filtering on the consumer's own ODS
// and org type gp-practice (gpconnect-1.6.md §4.1).
func (s *Session) SearchSlots(ctx context.Context, ods string, from, to time.Time) (*Slots, error) {
	ep, err := s.Endpoint(ctx, ods, gpc.SearchSlots)
	if err != nil {
		return nil, err
	}
	var q Query
	q.Add("status", "free")
	q.Add("start", "ge"+from.Format(time.DateOnly))
	q.Add("end", "le"+to.Format(time.DateOnly))
	q.Add("_include", "Slot:schedule")
	q.Add("_include:recurse", "Schedule:actor:Practitioner")
	q.Add("_include:recurse", "Schedule:actor:Location")
	q.Add("_include:recurse", "Location:managingOrganization")
	q.Add("searchFilter", gpc.SystemOrgType+"|"+gpc.OrgTypeGPPractice)
	q.Add("searchFilter", gpc.SystemODSCode+"|"+s.c.cfg.Identity.OrgODS)
	c := s.c.sspCall("4a", ep, http.MethodGet, "/Slot", q, nil, nil)
	resp, err := s.c.do(ctx, c)
	if err != nil {
		return nil, err
	}
	defer resp.release()
	out, err := parseSlots(resp.body)
	if err != nil {
		return nil, badResponse(c, resp.status, "%v", err)
	}
	return out, nil
}

// ProviderPatient is the patient as the provider knows them.
type ProviderPatient struct {
	ID              string
	PreferredBranch string // Location id from RegistrationDetails, if any
	Registered      bool   // true when this session registered them
	Resource        *stu3.Patient
}

// FindPatient searches the practice for the NHS number (5a–5d); nil, nil
// when the provider has no active record (a 200 empty searchset).
func (s *Session) FindPatient(ctx context.Context, ods, nhs string) (*ProviderPatient, error) {
	ep, err := s.Endpoint(ctx, ods, gpc.SearchPatient)
	if err != nil {
		return nil, err
	}
	var q Query
	q.Add("identifier", gpc.SystemNHSNumber+"|"+nhs)
	c := s.c.sspCall("5a", ep, http.MethodGet, "/Patient", q, nil, nil)
	resp, err := s.c.do(ctx, c)
	if err != nil {
		return nil, err
	}
	defer resp.release()
	p, err := firstPatient(resp.body)
	if err != nil {
		return nil, badResponse(c, resp.status, "%v", err)
	}
	return p, nil
}

func firstPatient(body []byte) (*ProviderPatient, error) {
	var b stu3.Bundle
	if err := unmarshal(body, &b); err != nil || b.ResourceType != "Bundle" {
		return nil, errors.New("answer is not a Bundle")
	}
	for _, e := range b.Entry {
		if p := new(stu3.Patient); unmarshal(e.Resource, p) == nil && p.ResourceType == "Patient" && p.ID != "" {
			pp := &ProviderPatient{ID: p.ID, Resource: p}
			if reg := stu3.FindExtension(p.Extension, gpc.ExtRegistrationDetails); reg != nil {
				if br := stu3.FindExtension(reg.Extension, "preferredBranchSurgery"); br != nil && br.ValueReference != nil {
					if _, id, ok := br.ValueReference.Split(); ok {
						pp.PreferredBranch = id
					}
				}
			}
			return pp, nil
		}
	}
	return nil, nil
}

// RegisterPatient registers the traced patient temporarily at the practice
// (the no-record branch, gpconnect-1.6.md §3.3), with the PDS demographics.
// It is never retried: a 409 DUPLICATE_REJECTED is returned to the caller.
func (s *Session) RegisterPatient(ctx context.Context, ods string, t *Trace) (*ProviderPatient, error) {
	ep, err := s.Endpoint(ctx, ods, gpc.RegisterPatient)
	if err != nil {
		return nil, err
	}
	p, err := json.Marshal(registerPatient(t))
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(stu3.Parameters{ResourceType: "Parameters", Parameter: []stu3.Parameter{{Name: "registerPatient", Resource: p}}})
	if err != nil {
		return nil, err
	}
	c := s.c.sspCall("branch", ep, http.MethodPost, "/Patient/$gpc.registerpatient", nil, body, nil)
	resp, err := s.c.do(ctx, c)
	if err != nil {
		return nil, err
	}
	defer resp.release()
	pp, err := firstPatient(resp.body)
	if err != nil || pp == nil {
		return nil, badResponse(c, resp.status, "register answer holds no Patient with an id")
	}
	pp.Registered = true
	return pp, nil
}

// registerPatient builds the CareConnect-GPC-Patient-1 from PDS: the NHS
// number, one official name, birthDate, gender, one home address, at most
// one phone per use and one email — nothing else may be sent (§3.3).
func registerPatient(t *Trace) stu3.Patient {
	src := &t.Patient
	p := stu3.Patient{
		ResourceType: "Patient",
		Meta:         &stu3.Meta{Profile: []string{gpc.ProfilePatient}},
		Identifier:   []stu3.Identifier{{System: gpc.SystemNHSNumber, Value: t.NHSNumber}},
		Gender:       code(src.Gender),
		BirthDate:    str(src.BirthDate),
	}
	for _, n := range src.Name {
		if use := code(n.Use); use == "usual" || use == "official" || use == "" {
			p.Name = []stu3.HumanName{{Use: "official", Family: str(n.Family), Given: n.Given, Prefix: n.Prefix}}
			break
		}
	}
	for _, a := range src.Address {
		if code(a.Use) == "home" {
			p.Address = []stu3.Address{{Use: "home", Type: "physical", Line: a.Line, City: str(a.City), District: str(a.District), PostalCode: str(a.PostalCode)}}
			break
		}
	}
	seen := map[string]bool{}
	for _, tc := range src.Telecom {
		system, value, use := code(tc.System), str(tc.Value), code(tc.Use)
		key := system + "/" + use
		switch {
		case value == "" || seen[key]:
			continue
		case system == "phone" && (use == "home" || use == "work" || use == "mobile"):
		case system == "email":
			key = "email"
			if seen[key] {
				continue
			}
		default:
			continue
		}
		seen[key] = true
		p.Telecom = append(p.Telecom, stu3.ContactPoint{System: system, Value: value, Use: use})
	}
	return p
}

// Appointment is a booked (or cancelled) appointment with its version tag.
type Appointment struct {
	Resource *stu3.Appointment
	ETag     string // W/"<versionId>", for amend and cancel
}

// ID returns the appointment's logical id.
func (a *Appointment) ID() string { return a.Resource.ID }

func decodeAppointment(c call, resp *response) (*Appointment, error) {
	var a stu3.Appointment
	if err := unmarshal(resp.body, &a); err != nil || a.ResourceType != "Appointment" || a.ID == "" {
		return nil, badResponse(c, resp.status, "answer is not an Appointment with an id")
	}
	etag := resp.header.Get("ETag")
	if etag == "" && a.Meta != nil && a.Meta.VersionID != "" {
		etag = fmt.Sprintf("W/%q", a.Meta.VersionID)
	}
	return &Appointment{Resource: &a, ETag: etag}, nil
}

// ReadAppointment reads one appointment (gpconnect-1.6.md §4.3).
func (s *Session) ReadAppointment(ctx context.Context, ods, id string) (*Appointment, error) {
	ep, err := s.Endpoint(ctx, ods, gpc.ReadAppointment)
	if err != nil {
		return nil, err
	}
	c := s.c.sspCall("read", ep, http.MethodGet, "/Appointment/"+id, nil, nil, nil)
	resp, err := s.c.do(ctx, c)
	if err != nil {
		return nil, err
	}
	defer resp.release()
	return decodeAppointment(c, resp)
}

// PatientAppointments lists the patient's appointments (by logical id at the
// practice) starting between the dates from and to (§4.6).
func (s *Session) PatientAppointments(ctx context.Context, ods, patientID string, from, to time.Time) ([]*stu3.Appointment, error) {
	return s.patientAppointments(ctx, "list", ods, patientID, from, to)
}

func (s *Session) patientAppointments(ctx context.Context, step, ods, patientID string, from, to time.Time) ([]*stu3.Appointment, error) {
	ep, err := s.Endpoint(ctx, ods, gpc.SearchPatientAppts)
	if err != nil {
		return nil, err
	}
	var q Query
	q.Add("start", "ge"+from.Format(time.DateOnly))
	q.Add("start", "le"+to.Format(time.DateOnly))
	c := s.c.sspCall(step, ep, http.MethodGet, "/Patient/"+patientID+"/Appointment", q, nil, nil)
	resp, err := s.c.do(ctx, c)
	if err != nil {
		return nil, err
	}
	defer resp.release()
	var b stu3.Bundle
	if err := unmarshal(resp.body, &b); err != nil || b.ResourceType != "Bundle" {
		return nil, badResponse(c, resp.status, "answer is not a Bundle")
	}
	var out []*stu3.Appointment
	for _, e := range b.Entry {
		if a := new(stu3.Appointment); unmarshal(e.Resource, a) == nil && a.ResourceType == "Appointment" {
			out = append(out, a)
		}
	}
	return out, nil
}

// AmendAppointment changes the description and comment of an appointment —
// the only fields amend may change — reading it first for its ETag (§4.4).
func (s *Session) AmendAppointment(ctx context.Context, ods, id, description, comment string) (*Appointment, error) {
	a, err := s.ReadAppointment(ctx, ods, id)
	if err != nil {
		return nil, err
	}
	if description != "" {
		a.Resource.Description = description
	}
	if comment != "" {
		a.Resource.Comment = comment
	}
	return s.put(ctx, "amend", ods, gpc.AmendAppointment, a)
}

// CancelAppointment sets status cancelled with the cancellation-reason
// extension, nothing else changed (§4.5).
func (s *Session) CancelAppointment(ctx context.Context, ods, id, reason string) (*Appointment, error) {
	if reason == "" {
		reason = "Cancelled by the consumer"
	}
	a, err := s.ReadAppointment(ctx, ods, id)
	if err != nil {
		return nil, err
	}
	a.Resource.Status = "cancelled"
	a.Resource.Extension = append(a.Resource.Extension, stu3.Extension{URL: gpc.ExtCancellationReason, ValueString: reason})
	return s.put(ctx, "cancel", ods, gpc.CancelAppointment, a)
}

func (s *Session) put(ctx context.Context, step, ods string, in gpc.Interaction, a *Appointment) (*Appointment, error) {
	ep, err := s.Endpoint(ctx, ods, in)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(a.Resource)
	if err != nil {
		return nil, err
	}
	c := s.c.sspCall(step, ep, http.MethodPut, "/Appointment/"+a.Resource.ID, nil, body, http.Header{"If-Match": {a.ETag}})
	c.retry = false
	resp, err := s.c.do(ctx, c)
	if err != nil {
		return nil, err
	}
	defer resp.release()
	return decodeAppointment(c, resp)
}
