package pds

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/nhsnumber"
	"github.com/spine-sandbox/spine-sandbox/internal/world"
)

// UK Core URLs PDS uses on a Patient (pds-sds-fhir.md §2.4).
const (
	extVerificationStatus    = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus"
	systemVerificationStatus = "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatus"
	extDeathNotification     = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-DeathNotificationStatus"
	systemDeathNotification  = "https://fhir.hl7.org.uk/CodeSystem/UKCore-DeathNotificationStatus"
	systemConfidentiality    = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
	ukCoreVersion            = "1.0.0"
)

// maxSupersededHops bounds how far a chain of merged records is followed, so
// a scenario with a cycle cannot hang a request.
const maxSupersededHops = 10

// retrieve answers GET /Patient/{id} (§2.1, §2.4, §2.7).
func (s *server) retrieve(rw http.ResponseWriter, id string) error {
	if !nhsnumber.Valid(id) {
		// §2.5: ten digits passing Modulus 11; the sandbox gives no diagnostics.
		return &pdsError{code: invalidResourceID}
	}
	a, err := s.retrieved(id)
	if err != nil {
		return err
	}
	rw.Header().Set("ETag", `W/"`+strconv.Itoa(a.version)+`"`) // §2.3
	s.writeBody(rw, http.StatusOK, a.body)
	return nil
}

// current returns the record a retrieve of nhs answers with. A superseded
// number gives the retained record, whose id differs from the one asked for:
// PDS does not redirect (§2.4). An invalidated record that was not
// superseded is 404 INVALIDATED_RESOURCE.
func (s *server) current(nhs string) (world.Patient, error) {
	for range maxSupersededHops {
		p, ok := s.world.Patient(nhs)
		switch {
		case !ok:
			return world.Patient{}, &pdsError{code: resourceNotFound}
		case p.SupersededBy != "":
			nhs = p.SupersededBy
		case p.Invalidated:
			return world.Patient{}, &pdsError{code: invalidatedResource}
		default:
			return p, nil
		}
	}
	return world.Patient{}, pdsErrorf(internalError, "Superseded chain from %s is longer than %d records", nhs, maxSupersededHops)
}

// patientJSON is the Patient PDS returns for p: NHS's record when the world
// holds one (p.Resource), else one built from p's fields.
func patientJSON(p world.Patient, searchSet bool) (json.RawMessage, error) {
	if len(p.Resource) == 0 {
		return json.Marshal(patientResource(p, searchSet))
	}
	var res map[string]any
	dec := json.NewDecoder(bytes.NewReader(p.Resource))
	dec.UseNumber() // numbers stay as written (multipleBirthInteger)
	if err := dec.Decode(&res); err != nil {
		return nil, fmt.Errorf("patient %s: the world's PDS record does not decode: %w", p.NHSNumber, err)
	}
	res["resourceType"] = "Patient"
	res["id"] = p.NHSNumber
	meta, _ := res["meta"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		res["meta"] = meta
	}
	meta["versionId"] = strconv.Itoa(p.VersionID)
	if p.Restricted {
		for _, k := range []string{"address", "telecom", "contact", "generalPractitioner"} {
			delete(res, k) // §2.4: withheld from a restricted record
		}
	}
	if searchSet {
		reduceForSearch(res)
	}
	return json.Marshal(res)
}

// searchExtensions are the only Patient extensions in PDS's reduced search
// data set: no place of birth, pharmacies, communication, contact
// preferences or removal from registration (§2.4; NHS's sandbox answers
// its searches with its records reduced this way).
var searchExtensions = map[string]bool{extDeathNotification: true}

// searchNameUses are the names PDS returns in a search (§2.4).
var searchNameUses = map[string]bool{"usual": true, "nickname": true, "temp": true}

// reduceForSearch cuts a full Patient down to PDS's search data set
// (§2.4): only home addresses, usual, nickname and temporary names, no
// managing organisation and only the extensions in searchExtensions.
func reduceForSearch(res map[string]any) {
	delete(res, "managingOrganization")
	keep := func(key string, ok func(map[string]any) bool) {
		list, _ := res[key].([]any)
		if list == nil {
			return
		}
		var out []any
		for _, e := range list {
			if m, _ := e.(map[string]any); m != nil && ok(m) {
				out = append(out, e)
			}
		}
		if len(out) == 0 {
			delete(res, key)
			return
		}
		res[key] = out
	}
	keep("extension", func(m map[string]any) bool { url, _ := m["url"].(string); return searchExtensions[url] })
	keep("address", func(m map[string]any) bool { use, _ := m["use"].(string); return use == "" || use == "home" })
	keep("name", func(m map[string]any) bool { use, _ := m["use"].(string); return use == "" || searchNameUses[use] })
}

// patientResource builds the Patient PDS returns for p. A restricted
// (S-flag) record has no address, telecom, contact or registered GP, on
// retrieve and in search (§2.4). Search returns a reduced data set: only home
// addresses (searchSet).
func patientResource(p world.Patient, searchSet bool) fhir.Patient {
	out := fhir.Patient{
		Id: ptr(p.NHSNumber),
		Identifier: []fhir.Identifier{{
			System: ptr(gpc.SystemNHSNumber),
			Value:  ptr(p.NHSNumber),
			// §2.4: PDS always returns 01, "Number present and verified".
			Extension: []fhir.Extension{{
				Url: extVerificationStatus,
				ValueCodeableConcept: &fhir.CodeableConcept{Coding: []fhir.Coding{{
					System: ptr(systemVerificationStatus), Version: ptr(ukCoreVersion),
					Code: ptr("01"), Display: ptr("Number present and verified"),
				}}},
			}},
		}},
		Meta: &fhir.Meta{
			VersionId: ptr(strconv.Itoa(p.VersionID)),
			Security:  []fhir.Coding{confidentiality(p.Restricted)},
		},
		Gender: enum[fhir.AdministrativeGender](p.Gender),
	}
	if p.BirthDate != "" {
		out.BirthDate = ptr(p.BirthDate)
	}
	if p.Name != nil {
		// The world keeps one name; PDS's current name is the "usual" one. Every
		// PDS record with demographics has multipleBirthInteger (1 for a
		// singleton); minimal records have neither (examples/pds).
		out.Name = []fhir.HumanName{{
			Id:     ptr(elementID(p.NHSNumber, "name", 0)),
			Use:    ptr(fhir.NameUseUsual),
			Family: nonEmpty(p.Name.Family),
			Given:  p.Name.Given,
			Prefix: p.Name.Prefix,
		}}
		out.MultipleBirthInteger = ptr(1)
	}
	if p.Deceased != "" {
		at := p.Deceased + "T00:00:00+00:00"
		out.DeceasedDateTime = ptr(at)
		out.Extension = append(out.Extension, deathNotification(at))
	}
	if p.Restricted {
		return out
	}
	if p.Practice != "" {
		// The registered practice is an Organization identified by its ODS code.
		out.GeneralPractitioner = []fhir.Reference{{
			Id:         ptr(elementID(p.NHSNumber, "gp:"+p.Practice, 0)),
			Type:       ptr("Organization"),
			Identifier: &fhir.Identifier{System: ptr(gpc.SystemODSCode), Value: ptr(p.Practice)},
		}}
	}
	for i, a := range p.Address {
		if searchSet && a.Use != "" && a.Use != "home" {
			continue
		}
		out.Address = append(out.Address, address(p.NHSNumber, i, a))
	}
	for i, t := range p.Telecom {
		out.Telecom = append(out.Telecom, fhir.ContactPoint{
			Id:     ptr(elementID(p.NHSNumber, "telecom", i)),
			System: enum[fhir.ContactPointSystem](t.System),
			Value:  ptr(t.Value),
			Use:    enum[fhir.ContactPointUse](t.Use),
		})
	}
	return out
}

func confidentiality(restricted bool) fhir.Coding {
	if restricted {
		return fhir.Coding{System: ptr(systemConfidentiality), Code: ptr("R"), Display: ptr("restricted")}
	}
	return fhir.Coding{System: ptr(systemConfidentiality), Code: ptr("U"), Display: ptr("unrestricted")}
}

// deathNotification is the UK Core death notification extension. The world
// records only the date, so the status is the usual formal notice from the
// Registrar, effective on the date of death.
func deathNotification(at string) fhir.Extension {
	return fhir.Extension{
		Url: extDeathNotification,
		Extension: []fhir.Extension{
			{Url: "deathNotificationStatus", ValueCodeableConcept: &fhir.CodeableConcept{Coding: []fhir.Coding{{
				System: ptr(systemDeathNotification), Version: ptr(ukCoreVersion),
				Code: ptr("2"), Display: ptr("Formal - death notice received from Registrar of Deaths"),
			}}}},
			{Url: "systemEffectiveDate", ValueDateTime: ptr(at)},
		},
	}
}

// address converts a world address. PDS addresses carry everything but the
// postcode as lines (examples/pds), so city and district become lines too.
func address(nhs string, i int, a world.Address) fhir.Address {
	lines := append([]string(nil), a.Lines...)
	for _, l := range []string{a.City, a.District} {
		if l != "" {
			lines = append(lines, l)
		}
	}
	use := a.Use
	if use == "" {
		use = "home"
	}
	return fhir.Address{
		Id:         ptr(elementID(nhs, "address", i)),
		Use:        enum[fhir.AddressUse](use),
		Line:       lines,
		PostalCode: nonEmpty(a.PostalCode),
	}
}

// elementID derives a stable element id (PDS gives names, addresses,
// telecoms and GP references ids such as "254406A3"; the world has none), so
// the same record always answers the same JSON.
func elementID(nhs, kind string, i int) string {
	sum := sha1.Sum([]byte(nhs + "/" + kind + "/" + strconv.Itoa(i)))
	return strings.ToUpper(hex.EncodeToString(sum[:4]))
}

// enum converts a code to one of the FHIR models' enum types, or nil when s
// is empty or not one of its codes (the element is then left out).
func enum[T any, P interface {
	*T
	json.Unmarshaler
}](s string) *T {
	if s == "" {
		return nil
	}
	v := new(T)
	if P(v).UnmarshalJSON([]byte(strconv.Quote(s))) != nil {
		return nil
	}
	return v
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
