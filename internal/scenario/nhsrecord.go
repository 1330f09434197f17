package scenario

import (
	"embed"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
)

// nhsRecords are the Patient records of NHS's own PDS FHIR sandbox, element
// for element as it answers them (recorded 2026-11-29; docs/fidelity.md):
// {nhs}.json is its retrieve answer for 9693632109, 9733162043, 9736363015,
// 9000000009, 9000000025 and 9000000033, and for 9000000017, which NHS's
// sandbox only returns from its searches, its search answer.
// {nhs}.search.json is its search answer where that disagrees with its
// retrieve answer (9000000009's name suffix; 9000000025's birth and death
// dates, 2005-06-16 in its searches and its API specification's search
// example, 2010-10-22 on retrieve): PDS matches and answers searches with
// it, so both of NHS's answers are ours too.
//
//go:embed nhsrecords/*.json
var nhsRecords embed.FS

// nhsRecordNumbers lists the NHS numbers a patient may take NHS's record
// for (nhs_record: true), in order.
func nhsRecordNumbers() []string {
	entries, _ := nhsRecords.ReadDir("nhsrecords")
	var out []string
	for _, e := range entries {
		if nhs, ok := strings.CutSuffix(e.Name(), ".json"); ok && !strings.Contains(nhs, ".") {
			out = append(out, nhs)
		}
	}
	return out
}

// nhsRecord returns NHS's record for nhs (kind "" for retrieve, ".search"
// for search), or false when NHS's sandbox has none.
func nhsRecord(nhs NHSNumber, kind string) (json.RawMessage, bool) {
	b, err := nhsRecords.ReadFile("nhsrecords/" + string(nhs) + kind + ".json")
	if err != nil {
		return nil, false
	}
	return b, true
}

// pdsPatient is the part of a PDS Patient the world keeps as fields, so
// that search matching, the provider's demographics checks and the
// scenario's own checks see the same patient PDS serves.
type pdsPatient struct {
	Meta struct {
		VersionID string `json:"versionId"`
		Security  []struct {
			Code string `json:"code"`
		} `json:"security"`
	} `json:"meta"`
	Name []struct {
		Use    string   `json:"use"`
		Family string   `json:"family"`
		Given  []string `json:"given"`
		Prefix []string `json:"prefix"`
	} `json:"name"`
	Gender              string `json:"gender"`
	BirthDate           string `json:"birthDate"`
	DeceasedDateTime    string `json:"deceasedDateTime"`
	GeneralPractitioner []struct {
		Identifier struct {
			System string `json:"system"`
			Value  string `json:"value"`
		} `json:"identifier"`
	} `json:"generalPractitioner"`
	Address []struct {
		Use        string   `json:"use"`
		Line       []string `json:"line"`
		PostalCode string   `json:"postalCode"`
	} `json:"address"`
	Telecom []struct {
		System string `json:"system"`
		Value  string `json:"value"`
		Use    string `json:"use"`
	} `json:"telecom"`
}

// expandNHSRecord fills p's fields from NHS's record for its number
// (nhs_record: true). The record's own keys may not be given beside it:
// the record is the whole patient.
func (d *decoder) expandNHSRecord(p *Patient) {
	if !p.NHSRecord || p.resource != nil || p.NHSNumber == "" {
		return // not asked for, already expanded (the built-in world's), or the number did not decode
	}
	res, ok := nhsRecord(p.NHSNumber, "")
	if !ok {
		d.errorAt(p.At, "nhs_record", "patients: NHS's PDS sandbox has no record for %s (it has %s)", p.NHSNumber, strings.Join(nhsRecordNumbers(), ", "))
		return
	}
	for _, k := range []struct {
		key   string
		given bool
	}{
		{"name", p.Name != nil}, {"birth_date", p.BirthDate != ""}, {"gender", p.Gender != ""}, {"practice", p.Practice != ""},
		{"restricted", p.Restricted}, {"deceased", p.Deceased != ""}, {"address", p.Address != nil}, {"telecom", p.Telecom != nil},
		{"version", p.Version != 0},
	} {
		if k.given {
			d.errorAt(p.At, k.key, "patients: %s of %s comes from NHS's record (nhs_record: true); leave it out", k.key, p.NHSNumber)
		}
	}
	if err := p.fillFrom(res); err != nil {
		d.errorAt(p.At, "nhs_record", "patients: NHS's record for %s does not decode: %v", p.NHSNumber, err)
		return
	}
	if res, ok := nhsRecord(p.NHSNumber, ".search"); ok {
		search := &Patient{At: p.At, NHSNumber: p.NHSNumber}
		if err := search.fillFrom(res); err != nil {
			d.errorAt(p.At, "nhs_record", "patients: NHS's search record for %s does not decode: %v", p.NHSNumber, err)
			return
		}
		p.search = search
	}
}

// fillFrom sets p's fields from the PDS Patient res and keeps res as the
// record PDS serves.
func (p *Patient) fillFrom(res json.RawMessage) error {
	var r pdsPatient
	if err := json.Unmarshal(res, &r); err != nil {
		return err
	}
	p.resource = res
	p.Version, _ = strconv.Atoi(r.Meta.VersionID)
	for _, sec := range r.Meta.Security {
		p.Restricted = p.Restricted || sec.Code == "R" // §2.4: R is restricted (S-flag)
	}
	for _, n := range r.Name {
		if p.Name == nil || n.Use == "usual" {
			p.Name = &Name{At: p.At, Prefix: n.Prefix, Given: n.Given, Family: n.Family}
		}
	}
	p.Gender = Enum(r.Gender)
	p.BirthDate = Date(r.BirthDate)
	if len(r.DeceasedDateTime) >= len("yyyy-mm-dd") {
		p.Deceased = Date(r.DeceasedDateTime[:len("yyyy-mm-dd")])
	}
	for _, gp := range r.GeneralPractitioner {
		if gp.Identifier.System == gpc.SystemODSCode {
			p.Practice = ODSCode(gp.Identifier.Value)
			break
		}
	}
	for _, a := range r.Address {
		p.Address = append(p.Address, Address{At: p.At, Use: Enum(a.Use), Lines: a.Line, PostalCode: a.PostalCode})
	}
	for _, t := range r.Telecom {
		p.Telecom = append(p.Telecom, Telecom{At: p.At, System: Enum(t.System), Value: t.Value, Use: Enum(t.Use)})
	}
	return nil
}
