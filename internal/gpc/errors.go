package gpc

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/spine-sandbox/spine-sandbox/internal/stu3"
)

// Code is a Spine error/warning code (Spine-ErrorOrWarningCode-1).
type Code string

// The codes GP Connect 1.6 uses (gpconnect-1.6.md §6.2, §6.3).
const (
	BadRequest                 Code = "BAD_REQUEST"
	InvalidResource            Code = "INVALID_RESOURCE"
	InvalidParameter           Code = "INVALID_PARAMETER"
	ReferenceNotFound          Code = "REFERENCE_NOT_FOUND"
	InvalidNHSNumber           Code = "INVALID_NHS_NUMBER"
	InvalidIdentifierSystem    Code = "INVALID_IDENTIFIER_SYSTEM"
	InvalidIdentifierValue     Code = "INVALID_IDENTIFIER_VALUE"
	InvalidPatientDemographics Code = "INVALID_PATIENT_DEMOGRAPHICS"
	PatientNotFound            Code = "PATIENT_NOT_FOUND"
	PractitionerNotFound       Code = "PRACTITIONER_NOT_FOUND"
	OrganisationNotFound       Code = "ORGANISATION_NOT_FOUND"
	NoRecordFound              Code = "NO_RECORD_FOUND"
	DuplicateRejected          Code = "DUPLICATE_REJECTED"
	FHIRConstraintViolation    Code = "FHIR_CONSTRAINT_VIOLATION"
	ConflictingValues          Code = "CONFLICTING_VALUES"
	AccessDenied               Code = "ACCESS DENIED"
	NotImplemented             Code = "NOT_IMPLEMENTED"
	InternalServerError        Code = "INTERNAL_SERVER_ERROR"
	UnsupportedMediaType       Code = "UNSUPPORTED_MEDIA_TYPE"
)

// codeInfo is the default HTTP status, FHIR issue type and display of a code.
type codeInfo struct {
	status  int
	issue   string
	display string
}

var codes = map[Code]codeInfo{
	BadRequest:                 {400, "invalid", "Bad request"},
	InvalidResource:            {422, "invalid", "Invalid validation of resource"},
	InvalidParameter:           {422, "invalid", "Invalid parameter"},
	ReferenceNotFound:          {422, "invalid", "Reference not found"},
	InvalidNHSNumber:           {400, "value", "Invalid NHS number"},
	InvalidIdentifierSystem:    {400, "value", "Invalid identifier system"},
	InvalidIdentifierValue:     {400, "value", "Invalid identifier value"},
	InvalidPatientDemographics: {400, "business-rule", "Invalid patient demographics"},
	PatientNotFound:            {404, "not-found", "Patient not found"},
	PractitionerNotFound:       {404, "not-found", "Practitioner not found"},
	OrganisationNotFound:       {404, "not-found", "Organisation not found"},
	NoRecordFound:              {404, "not-found", "No record found"},
	DuplicateRejected:          {409, "duplicate", "Create would lead to creation of a duplicate resource"},
	FHIRConstraintViolation:    {409, "conflict", "FHIR constraint violated"},
	ConflictingValues:          {400, "invalid", "Conflicting values have been specified in different fields"},
	AccessDenied:               {403, "forbidden", "Access has been denied to process this request"},
	NotImplemented:             {501, "not-supported", "Not implemented"},
	InternalServerError:        {500, "processing", "Unexpected internal server error"},
	UnsupportedMediaType:       {415, "not-supported", "Unsupported media type"},
}

// Status returns the HTTP status GP Connect gives c (500 when unknown).
func (c Code) Status() int {
	if i, ok := codes[c]; ok {
		return i.status
	}
	return http.StatusInternalServerError
}

// IssueType returns the FHIR issue type GP Connect pairs with c.
func (c Code) IssueType() string {
	if i, ok := codes[c]; ok {
		return i.issue
	}
	return "exception"
}

// Display returns the code system's display text for c.
func (c Code) Display() string {
	if i, ok := codes[c]; ok {
		return i.display
	}
	return string(c)
}

// Error is a provider failure with its HTTP status, Spine code and
// diagnostics: what the provider turns into a GPConnect-OperationOutcome-1.
type Error struct {
	Status      int    // HTTP status; 0 means Code.Status()
	Code        Code   // Spine error/warning code
	Issue       string // FHIR issue type; "" means Code.IssueType()
	Diagnostics string // what exactly was wrong
}

func (e *Error) Error() string {
	return fmt.Sprintf("%d %s: %s", e.HTTPStatus(), e.Code, e.Diagnostics)
}

// HTTPStatus returns the status to answer with.
func (e *Error) HTTPStatus() int {
	if e.Status != 0 {
		return e.Status
	}
	return e.Code.Status()
}

// IssueType returns the FHIR issue type to answer with.
func (e *Error) IssueType() string {
	if e.Issue != "" {
		return e.Issue
	}
	return e.Code.IssueType()
}

// Errorf returns an Error with code's default status and formatted
// diagnostics.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Diagnostics: fmt.Sprintf(format, args...)}
}

// StatusErrorf returns an Error with an explicit status.
func StatusErrorf(status int, code Code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Diagnostics: fmt.Sprintf(format, args...)}
}

// AsError returns err as an *Error, or a generic 500 INTERNAL_SERVER_ERROR
// that does not leak err's text.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: InternalServerError, Diagnostics: "Internal server error"}
}

// The FHIR STU3 datatypes of an OperationOutcome are stu3's, defined once
// there; these names keep gpc's users (the mocks, the sandbox's faults)
// working.
type (
	// OperationOutcome is stu3.OperationOutcome.
	OperationOutcome = stu3.OperationOutcome
	// Meta is stu3.Meta: a resource's meta element.
	Meta = stu3.Meta
	// Issue is stu3.Issue: one OperationOutcome issue.
	Issue = stu3.Issue
	// CodeableConcept is stu3.CodeableConcept.
	CodeableConcept = stu3.CodeableConcept
	// Coding is stu3.Coding.
	Coding = stu3.Coding
)

// ProviderOutcome builds the GPConnect-OperationOutcome-1 for e
// (gpconnect-1.6.md §6.1).
func ProviderOutcome(e *Error) OperationOutcome {
	return OperationOutcome{
		ResourceType: "OperationOutcome",
		Meta:         &Meta{Profile: []string{ProfileOperationOutcome}},
		Issue: []Issue{{
			Severity: "error",
			Code:     e.IssueType(),
			Details: &CodeableConcept{Coding: []Coding{{
				System:  SystemSpineErrorCode,
				Code:    string(e.Code),
				Display: e.Code.Display(),
			}}},
			Diagnostics: e.Diagnostics,
		}},
	}
}

// SSPOutcome builds the SSP's own error body (gpconnect-1.6.md §1.5): no
// profile, an id, the HTTP status as the code, and message as both display
// and diagnostics.
func SSPOutcome(id string, status int, issueCode, message string) OperationOutcome {
	system := SystemSSPResponseCode
	display := message
	severity := "error"
	if status == http.StatusMethodNotAllowed {
		// The spec's 405 example uses another system and a fixed display.
		system = SystemSSPOperationOutcome
		display = "405: Method Not Allowed"
	}
	return OperationOutcome{
		ResourceType: "OperationOutcome",
		ID:           id,
		Issue: []Issue{{
			Severity: severity,
			Code:     issueCode,
			Details: &CodeableConcept{Coding: []Coding{{
				System:  system,
				Code:    fmt.Sprint(status),
				Display: display,
			}}},
			Diagnostics: message,
		}},
	}
}

// SpineCode returns the first Spine code in an OperationOutcome body, or ""
// when body is not one. It accepts both the provider's and the SSP's shapes.
func SpineCode(body []byte) (code, diagnostics string) {
	var oo OperationOutcome
	if json.Unmarshal(body, &oo) != nil || oo.ResourceType != "OperationOutcome" || len(oo.Issue) == 0 {
		return "", ""
	}
	is := oo.Issue[0]
	if is.Details != nil && len(is.Details.Coding) > 0 {
		c := is.Details.Coding[0]
		if c.System == SystemSSPResponseCode || c.System == SystemSSPOperationOutcome {
			// The SSP puts the status in code and the message in display.
			return c.Display, is.Diagnostics
		}
		return c.Code, is.Diagnostics
	}
	return "", is.Diagnostics
}
