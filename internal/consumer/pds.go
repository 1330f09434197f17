package consumer

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/nhsnumber"
)

// PDS FHIR R4 systems the consumer reads (pds-sds-fhir.md §2.4).
const (
	extVerificationStatus = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus"
	systemConfidentiality = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
)

// Trace is what the consumer learned from PDS.
type Trace struct {
	Requested  string // the NHS number asked for
	NHSNumber  string // the number to use: differs when Requested was superseded
	Superseded bool
	ODS        string // registered practice; "" when restricted or none
	Restricted bool   // security label R: address, telecom and GP removed
	Warnings   []string
	Patient    PDSPatient // as PDS gave it
}

// PDSPatient is a PDS FHIR R4 Patient, decoded with the R4 models of
// samply/golang-fhir-models (r4.go has what they leave out).
type PDSPatient = fhir.Patient

// Trace verifies nhs on PDS (step 1a/1b) and returns the registered
// practice. With allowNoPractice (booking at a named practice) a restricted
// patient or one without a GP is fine: the trace still proves the number.
// Traces are cached in the session.
//
// Verification status: a code other than 01 is an error (ErrUnverified);
// no status at all is only a warning, since PDS implementations other than
// NHS's may omit the extension (pds-sds-fhir.md §2.4, §6).
func (s *Session) Trace(ctx context.Context, nhs string, allowNoPractice bool) (*Trace, error) {
	if t, ok := s.traces[nhs]; ok {
		return t, checkPractice(t, allowNoPractice)
	}
	c := call{step: "1a", service: HopPDS, method: http.MethodGet, retry: true,
		url: strings.TrimSuffix(s.c.cfg.PDS, "/") + "/Patient/" + url.PathEscape(nhs)}
	if !nhsnumber.Valid(nhs) {
		// Modulus 11 before any call (pds-sds-fhir.md §2.6).
		return nil, &Error{Kind: ErrInvalidNHSNumber, Hop: HopPDS, Step: "1a", Diagnostics: "NHS number " + nhs + " fails the Modulus 11 check"}
	}
	c.header = func() (http.Header, error) {
		return header("X-Request-ID", gpc.NewUUID(), "X-Correlation-ID", gpc.NewUUID(), "Accept", "application/fhir+json"), nil
	}
	resp, err := s.c.do(ctx, c)
	if err != nil {
		var e *Error
		if errors.As(err, &e) && e.Kind == ErrRemote {
			switch e.Code {
			case "INVALID_RESOURCE_ID":
				e.Kind = ErrInvalidNHSNumber
			case "RESOURCE_NOT_FOUND":
				e.Kind = ErrPatientNotFound
			case "INVALIDATED_RESOURCE":
				e.Kind = ErrInvalidated
			}
		}
		return nil, err
	}
	defer resp.release()
	pat, err := decodeR4[r4Patient](resp.body, "Patient")
	if err != nil {
		return nil, badResponse(c, resp.status, "PDS answer is not a Patient: %v", err)
	}
	t := &Trace{Requested: nhs, Patient: PDSPatient(*pat)}
	p := &t.Patient
	t.NHSNumber = str(p.Id)
	if t.NHSNumber == "" {
		t.NHSNumber = nhs
	}
	if t.NHSNumber != nhs {
		// Superseded numbers come back as the retained record, no redirect
		// (pds-sds-fhir.md §2.4).
		t.Superseded = true
		t.Warnings = append(t.Warnings, "NHS number "+nhs+" is superseded by "+t.NHSNumber)
	}
	if str(p.DeceasedDateTime) != "" || p.DeceasedBoolean != nil && *p.DeceasedBoolean {
		return nil, &Error{Kind: ErrDeceased, Hop: HopPDS, Step: "1a", Status: resp.status, Diagnostics: "deceased " + str(p.DeceasedDateTime)}
	}
	verified := ""
	for _, id := range p.Identifier {
		if str(id.System) != gpc.SystemNHSNumber {
			continue
		}
		for _, x := range id.Extension {
			if x.Url == extVerificationStatus && x.ValueCodeableConcept != nil && len(x.ValueCodeableConcept.Coding) > 0 {
				verified = str(x.ValueCodeableConcept.Coding[0].Code)
			}
		}
	}
	switch verified {
	case "01":
	case "":
		t.Warnings = append(t.Warnings, "PDS gives no NHS number verification status")
	default:
		return nil, &Error{Kind: ErrUnverified, Hop: HopPDS, Step: "1a", Status: resp.status, Code: verified, Diagnostics: "verification status " + verified + ", want 01"}
	}
	if p.Meta != nil {
		for _, sec := range p.Meta.Security {
			if str(sec.System) == systemConfidentiality && str(sec.Code) == "R" {
				t.Restricted = true
			}
		}
	}
	for _, gp := range p.GeneralPractitioner {
		if id := gp.Identifier; id != nil && str(id.System) == gpc.SystemODSCode && str(id.Value) != "" {
			t.ODS = str(id.Value)
			break
		}
	}
	s.traces[nhs] = t
	return t, checkPractice(t, allowNoPractice)
}

func checkPractice(t *Trace, allowNoPractice bool) error {
	if allowNoPractice || t.ODS != "" && !t.Restricted {
		return nil
	}
	if t.Restricted {
		return &Error{Kind: ErrRestricted, Hop: HopPDS, Step: "1a", Status: http.StatusOK, Diagnostics: "PDS withholds the registered practice of a restricted patient; name a target practice"}
	}
	return &Error{Kind: ErrNoPractice, Hop: HopPDS, Step: "1a", Status: http.StatusOK, Diagnostics: "no generalPractitioner with an ODS code"}
}
