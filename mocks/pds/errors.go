package pds

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"
)

// systemSpineErrorR4 is the coding system of PDS's OperationOutcomes
// (pds-sds-fhir.md §2.5); unlike GP Connect's STU3 system it carries a
// version.
const (
	systemSpineErrorR4  = "https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode"
	versionSpineErrorR4 = "1"
)

// code is a PDS Spine error or warning code.
type code string

// The codes PDS answers with (pds-sds-fhir.md §2.5).
const (
	invalidResourceID   code = "INVALID_RESOURCE_ID"
	unsupportedService  code = "UNSUPPORTED_SERVICE"
	missingValue        code = "MISSING_VALUE"
	invalidValue        code = "INVALID_VALUE"
	accessDenied        code = "ACCESS_DENIED"
	resourceNotFound    code = "RESOURCE_NOT_FOUND"
	invalidatedResource code = "INVALIDATED_RESOURCE"
	invalidSearchData   code = "INVALID_SEARCH_DATA"
	additionalProps     code = "ADDITIONAL_PROPERTIES"
	tooManyMatches      code = "TOO_MANY_MATCHES"
	internalError       code = "INTERNAL_SERVER_ERROR"
)

// codeInfo is how PDS answers a code: HTTP status, FHIR issue type and
// severity, and the code system's display.
type codeInfo struct {
	status   int
	issue    fhir.IssueType
	severity fhir.IssueSeverity
	display  string
}

// codes holds every code's answer. Statuses, issue types and displays come
// from the spec's error table and NHS's captured responses (§2.5,
// examples/pds). RESOURCE_NOT_FOUND has severity "information" as in the
// current sandbox's capture; TOO_MANY_MATCHES is an HTTP 200 with an
// information issue of type multiple-matches (§2.4, current spec).
var codes = map[code]codeInfo{
	invalidResourceID:   {http.StatusBadRequest, fhir.IssueTypeValue, fhir.IssueSeverityError, "Resource Id is invalid"},
	unsupportedService:  {http.StatusBadRequest, fhir.IssueTypeInvalid, fhir.IssueSeverityError, "Unsupported Service"},
	missingValue:        {http.StatusBadRequest, fhir.IssueTypeRequired, fhir.IssueSeverityError, "Required value is missing"},
	invalidValue:        {http.StatusBadRequest, fhir.IssueTypeValue, fhir.IssueSeverityError, "Provided value is invalid"},
	accessDenied:        {http.StatusUnauthorized, fhir.IssueTypeForbidden, fhir.IssueSeverityError, "Access Denied - Unauthorised"},
	resourceNotFound:    {http.StatusNotFound, fhir.IssueTypeNotFound, fhir.IssueSeverityInformation, "Resource not found"},
	invalidatedResource: {http.StatusNotFound, fhir.IssueTypeProcessing, fhir.IssueSeverityError, "Resource that has been marked as invalid was requested - invalid resources cannot be retrieved"},
	invalidSearchData:   {http.StatusBadRequest, fhir.IssueTypeInvalid, fhir.IssueSeverityError, "Search data is invalid"},
	additionalProps:     {http.StatusBadRequest, fhir.IssueTypeStructure, fhir.IssueSeverityError, "Additional properties are not allowed"},
	tooManyMatches:      {http.StatusOK, fhir.IssueTypeMultipleMatches, fhir.IssueSeverityInformation, "Too Many Matches"},
	internalError:       {http.StatusInternalServerError, fhir.IssueTypeException, fhir.IssueSeverityError, "Unexpected internal server error"},
}

// pdsError is a failure PDS reports with an OperationOutcome.
type pdsError struct {
	code        code
	diagnostics string // "" leaves diagnostics out, as PDS does for some codes
}

func (e *pdsError) Error() string {
	return fmt.Sprintf("%d %s: %s", codes[e.code].status, e.code, e.diagnostics)
}

// pdsErrorf returns a pdsError with formatted diagnostics.
func pdsErrorf(c code, format string, args ...any) *pdsError {
	return &pdsError{code: c, diagnostics: fmt.Sprintf(format, args...)}
}

// outcome builds PDS's R4 OperationOutcome for e.
func outcome(e *pdsError) fhir.OperationOutcome {
	info := codes[e.code]
	issue := fhir.OperationOutcomeIssue{
		Severity: info.severity,
		Code:     info.issue,
		Details: &fhir.CodeableConcept{Coding: []fhir.Coding{{
			System:  ptr(systemSpineErrorR4),
			Version: ptr(versionSpineErrorR4),
			Code:    ptr(string(e.code)),
			Display: ptr(info.display),
		}}},
	}
	if e.diagnostics != "" {
		issue.Diagnostics = ptr(e.diagnostics)
	}
	return fhir.OperationOutcome{Issue: []fhir.OperationOutcomeIssue{issue}}
}

// writeError is the one place an error becomes a response. A pdsError is
// answered as PDS would; anything else is a bug in the mock, logged in full
// and answered with a generic 500.
func (s *server) writeError(rw http.ResponseWriter, r *http.Request, err error) {
	var e *pdsError
	if !errors.As(err, &e) {
		s.log.Error("pds: answering 500", "method", r.Method, "url", r.URL.String(), "err", err)
		e = &pdsError{code: internalError, diagnostics: "Internal server error"}
	}
	if werr := s.writeJSON(rw, codes[e.code].status, outcome(e)); werr != nil {
		s.log.Error("pds: encoding OperationOutcome", "err", werr)
		rw.WriteHeader(http.StatusInternalServerError)
	}
}

func ptr[T any](v T) *T { return &v }
