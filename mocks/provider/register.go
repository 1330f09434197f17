package provider

import (
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/nhsnumber"
	"github.com/spine-sandbox/spine-sandbox/internal/stu3"
	"github.com/spine-sandbox/spine-sandbox/internal/world"
)

// registerAllowed are the Patient elements a register request may carry
// (§3.3: SHALL, SHOULD and MAY); "Anything else MUST NOT be sent".
var registerAllowed = []string{"resourceType", "meta", "identifier", "name", "gender", "birthDate", "address", "telecom", "extension"}

// registerPatient answers POST /Patient/$gpc.registerpatient (§3.3): a
// Parameters with exactly one registerPatient Patient, checked against the
// content rules, then world.Register; 200 with a GPConnect-Searchset-Bundle-1
// holding the temporary registration.
func (s *server) registerPatient(rw http.ResponseWriter, r *request) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	reg, err := registration(body)
	if err != nil {
		return err
	}
	rec, err := s.world.Register(r.practice.ODS, reg)
	if err != nil {
		return err
	}
	pds, _ := s.world.Patient(rec.NHSNumber)
	b, err := searchset(gpc.ProfileSearchsetBundle, patient(r.practice, rec, pds))
	if err != nil {
		return err
	}
	s.writeJSON(rw, r.Request, http.StatusOK, b, nil)
	return nil
}

// registration applies §3.3's request rules, with the statuses of its error
// table and the test suite's expectations.
func registration(body []byte) (world.Registration, error) {
	rt, _ := stu3.ResourceTypeOf(body)
	if rt != "Parameters" {
		return world.Registration{}, gpc.Errorf(gpc.InvalidResource, "Request body must be a Parameters resource, got %q", rt)
	}
	var params stu3.Parameters
	if err := json.Unmarshal(body, &params); err != nil {
		return world.Registration{}, gpc.Errorf(gpc.InvalidResource, "Parameters is not valid: %v", err)
	}
	named := params.Named("registerPatient")
	switch {
	case len(named) > 1:
		return world.Registration{}, gpc.Errorf(gpc.BadRequest, "Parameter registerPatient must be sent exactly once, got %d", len(named))
	case len(named) == 0:
		return world.Registration{}, gpc.Errorf(gpc.InvalidResource, "Parameters must contain a registerPatient parameter (case-sensitive)")
	case len(params.Parameter) > 1:
		return world.Registration{}, gpc.Errorf(gpc.InvalidResource, "Parameters must contain only the registerPatient parameter, got %d parameters", len(params.Parameter))
	}
	raw := named[0].Resource
	if rt, _ := stu3.ResourceTypeOf(raw); rt != "Patient" {
		return world.Registration{}, gpc.Errorf(gpc.InvalidResource, "Parameter registerPatient must hold a Patient resource, got %q", rt)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		return world.Registration{}, gpc.Errorf(gpc.InvalidResource, "registerPatient resource is not a JSON object")
	}
	var extra []string
	for k := range top {
		if !slices.Contains(registerAllowed, k) {
			extra = append(extra, k)
		}
	}
	unknown, _ := stu3.UnknownFields(body, stu3.Parameters{})
	extra = append(extra, unknown...)
	if len(extra) > 0 {
		sort.Strings(extra)
		return world.Registration{}, gpc.Errorf(gpc.InvalidResource, "registerPatient Patient carries elements that must not be sent: %s", strings.Join(extra, ", "))
	}
	var p stu3.Patient
	if err := json.Unmarshal(raw, &p); err != nil {
		return world.Registration{}, gpc.Errorf(gpc.InvalidResource, "registerPatient Patient is not valid: %v", err)
	}
	if p.Meta == nil || !slices.Contains(p.Meta.Profile, gpc.ProfilePatient) {
		return world.Registration{}, gpc.Errorf(gpc.InvalidResource, "Patient meta.profile must be %s", gpc.ProfilePatient)
	}

	// identifier: the NHS number, and only that (§3.3 SHALL; test suite).
	var nhs string
	for i, id := range p.Identifier {
		switch {
		case id.System == "":
			return world.Registration{}, gpc.Errorf(gpc.BadRequest, "Patient identifier[%d] has no system", i)
		case id.System != gpc.SystemNHSNumber:
			return world.Registration{}, gpc.Errorf(gpc.InvalidResource, "Patient identifier[%d] system %q must not be sent; only %s", i, id.System, gpc.SystemNHSNumber)
		case nhs != "":
			return world.Registration{}, gpc.Errorf(gpc.InvalidResource, "Patient has more than one NHS number identifier")
		}
		nhs = id.Value
	}
	if nhs == "" {
		return world.Registration{}, gpc.Errorf(gpc.InvalidNHSNumber, "Patient identifier with system %s is required", gpc.SystemNHSNumber)
	}
	if !nhsnumber.Valid(nhs) {
		return world.Registration{}, gpc.Errorf(gpc.InvalidNHSNumber, "NHS number %q is not valid (10 digits with a Modulus 11 check digit)", nhs)
	}

	// name: exactly one official name, with family and given (§3.3 SHALL).
	// Names of other uses (a nickname, a maiden name) may come with it:
	// NHS's suite adds a nickname and expects the registration to succeed
	// (PatientRegister.feature "additional valid elements", Name); the
	// provider keeps only the official one.
	var official []stu3.HumanName
	for _, n := range p.Name {
		if n.Use == "official" {
			official = append(official, n)
		}
	}
	if len(official) > 1 {
		return world.Registration{}, gpc.Errorf(gpc.InvalidResource, "Patient must have exactly one official name, got %d", len(official))
	}
	if len(official) == 0 {
		return world.Registration{}, gpc.Errorf(gpc.BadRequest, "Patient must have one name with use \"official\"")
	}
	n := official[0]
	if strings.TrimSpace(n.Family) == "" {
		return world.Registration{}, gpc.Errorf(gpc.BadRequest, "Patient official name has no family name")
	}
	if len(n.Given) == 0 || strings.TrimSpace(n.Given[0]) == "" {
		return world.Registration{}, gpc.Errorf(gpc.BadRequest, "Patient official name has no given name")
	}
	if p.BirthDate == "" {
		return world.Registration{}, gpc.Errorf(gpc.BadRequest, "Patient birthDate is required")
	}
	if _, err := time.Parse(time.DateOnly, p.BirthDate); err != nil {
		return world.Registration{}, gpc.Errorf(gpc.InvalidResource, "Patient birthDate %q is not a yyyy-mm-dd date", p.BirthDate)
	}
	switch p.Gender {
	case "", "male", "female", "other", "unknown":
	default:
		return world.Registration{}, gpc.Errorf(gpc.InvalidResource, "Patient gender %q is not male, female, other or unknown", p.Gender)
	}
	if p.Active != nil || len(p.Contact) > 0 || p.ManagingOrganization != nil || p.ID != "" {
		return world.Registration{}, gpc.Errorf(gpc.InvalidResource, "Patient carries elements that must not be sent")
	}

	reg := world.Registration{
		NHSNumber: nhs,
		Name:      world.Name{Prefix: n.Prefix, Given: n.Given, Family: n.Family},
		BirthDate: p.BirthDate,
		Gender:    p.Gender,
	}
	// address: at most one home (SHOULD) and one temp (MAY).
	uses := map[string]int{}
	for i, a := range p.Address {
		if a.Use != "home" && a.Use != "temp" {
			return world.Registration{}, gpc.Errorf(gpc.InvalidResource, "Patient address[%d] use %q must be home or temp", i, a.Use)
		}
		if uses[a.Use]++; uses[a.Use] > 1 {
			return world.Registration{}, gpc.Errorf(gpc.InvalidResource, "Patient has more than one %s address", a.Use)
		}
		reg.Address = append(reg.Address, world.Address{Use: a.Use, Lines: a.Line, City: a.City, District: a.District, PostalCode: a.PostalCode})
	}
	// telecom: one phone each of home, work, mobile (SHOULD) and temp
	// (MAY), and one email.
	seen := map[string]int{}
	for i, t := range p.Telecom {
		key := t.System
		switch t.System {
		case "phone":
			if !slices.Contains([]string{"home", "work", "mobile", "temp"}, t.Use) {
				return world.Registration{}, gpc.Errorf(gpc.InvalidResource, "Patient telecom[%d] phone use %q must be home, work, mobile or temp", i, t.Use)
			}
			key += "/" + t.Use
		case "email":
		default:
			return world.Registration{}, gpc.Errorf(gpc.InvalidResource, "Patient telecom[%d] system %q must be phone or email", i, t.System)
		}
		// Two of the same kind: 400 BAD_REQUEST, as NHS's suite expects
		// (PatientRegister.feature "Address and Invalid Telecom elements");
		// §3.3 says at most one of each and gives no code.
		if seen[key]++; seen[key] > 1 {
			return world.Registration{}, gpc.Errorf(gpc.BadRequest, "Patient has more than one %s telecom", strings.ReplaceAll(key, "/", " "))
		}
		reg.Telecom = append(reg.Telecom, world.Telecom{System: t.System, Value: t.Value, Use: t.Use})
	}
	// extension: at most one NHSCommunication; nothing else.
	comms := 0
	for i, e := range p.Extension {
		if e.URL != gpc.ExtNHSCommunication {
			return world.Registration{}, gpc.Errorf(gpc.InvalidResource, "Patient extension[%d] %q must not be sent", i, e.URL)
		}
		if comms++; comms > 1 {
			return world.Registration{}, gpc.Errorf(gpc.InvalidResource, "Patient has more than one nhsCommunication")
		}
	}
	return reg, nil
}
