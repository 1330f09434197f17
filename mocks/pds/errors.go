package pds

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

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
// from the spec's error table and NHS's own sandbox's answers (§2.5,
// examples/pds, docs/fidelity.md): UNSUPPORTED_SERVICE is a processing
// issue, INVALID_SEARCH_DATA a value issue and ADDITIONAL_PROPERTIES an
// invariant issue with NHS's display. RESOURCE_NOT_FOUND has severity
// "information" as in the current sandbox; TOO_MANY_MATCHES is an HTTP 200
// with an information issue of type multiple-matches (§2.4, current spec).
var codes = map[code]codeInfo{
	invalidResourceID:   {http.StatusBadRequest, fhir.IssueTypeValue, fhir.IssueSeverityError, "Resource Id is invalid"},
	unsupportedService:  {http.StatusBadRequest, fhir.IssueTypeProcessing, fhir.IssueSeverityError, "Unsupported Service"},
	missingValue:        {http.StatusBadRequest, fhir.IssueTypeRequired, fhir.IssueSeverityError, "Required value is missing"},
	invalidValue:        {http.StatusBadRequest, fhir.IssueTypeValue, fhir.IssueSeverityError, "Provided value is invalid"},
	accessDenied:        {http.StatusUnauthorized, fhir.IssueTypeForbidden, fhir.IssueSeverityError, "Access Denied - Unauthorised"},
	resourceNotFound:    {http.StatusNotFound, fhir.IssueTypeNotFound, fhir.IssueSeverityInformation, "Resource not found"},
	invalidatedResource: {http.StatusNotFound, fhir.IssueTypeProcessing, fhir.IssueSeverityError, "Resource that has been marked as invalid was requested - invalid resources cannot be retrieved"},
	invalidSearchData:   {http.StatusBadRequest, fhir.IssueTypeValue, fhir.IssueSeverityError, "Search data is invalid"},
	additionalProps:     {http.StatusBadRequest, fhir.IssueTypeInvariant, fhir.IssueSeverityError, "Additional properties should not be included"},
	tooManyMatches:      {http.StatusOK, fhir.IssueTypeMultipleMatches, fhir.IssueSeverityInformation, "Too Many Matches"},
	internalError:       {http.StatusInternalServerError, fhir.IssueTypeException, fhir.IssueSeverityError, "Unexpected internal server error"},
}

// The errors whose every word is NHS's: its sandbox answers these requests
// with these diagnostics (examples/pds, docs/fidelity.md), or with none.
var (
	// errNoSearchParameters: GET /Patient with no parameters at all.
	errNoSearchParameters = &pdsError{code: unsupportedService}
	// errNoBirthdate: a search without birthdate, PDS naming its internal
	// fields.
	errNoBirthdate = &pdsError{code: missingValue, diagnostics: "Missing value - 'birth_date/birth_date_range_start/birth_date_range_end'"}
	// errNoFamily: a search with birthdate but without family.
	errNoFamily = &pdsError{code: invalidSearchData, diagnostics: "Invalid search data provided - 'No searches were performed as the search criteria did not meet the minimum requirements'"}
	// errMissingRequestID: no X-Request-ID header (§2.2).
	errMissingRequestID = &pdsError{code: missingValue, diagnostics: "Invalid request with error - X-Request-ID header must be supplied to access this resource"}
	// errMissingToken: an Authorization header that is not "Bearer <token>".
	errMissingToken = &pdsError{code: accessDenied, diagnostics: "Missing access token"}
	// errInvalidToken: a bearer token of the wrong form.
	errInvalidToken = &pdsError{code: accessDenied, diagnostics: "Invalid Access Token"}
)

// errUnexpectedParameters names the parameters PDS does not know, in the
// order they were sent, as PDS words it: "('foo' was unexpected)" for one,
// "('a', 'b' were unexpected)" for several.
func errUnexpectedParameters(names []string) *pdsError {
	verb := "was"
	if len(names) > 1 {
		verb = "were"
	}
	return pdsErrorf(additionalProps, "Invalid request with error - Additional properties are not allowed ('%s' %s unexpected)", strings.Join(names, "', '"), verb)
}

// errInvalidValue is PDS's answer to a value it cannot read; where is
// "field 'birthdate'" or "header 'X-Request-ID'".
func errInvalidValue(value, where string) *pdsError {
	return pdsErrorf(invalidValue, "Invalid value - '%s' in %s", value, where)
}

// pdsError is a failure PDS reports with an OperationOutcome.
type pdsError struct {
	code        code
	diagnostics string // "" leaves diagnostics out, as PDS does for some codes
	// status and issue answer a code the table does not hold, and status
	// replaces the table's (WriteFault); zero for PDS's own errors.
	status int
	issue  fhir.IssueType
}

func (e *pdsError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.info().status, e.code, e.diagnostics)
}

// info is how e is answered: the code's row of codes, or for a code PDS
// does not answer with, an error with the code as display; an explicit
// status wins.
func (e *pdsError) info() codeInfo {
	info, ok := codes[e.code]
	if !ok {
		info = codeInfo{http.StatusInternalServerError, e.issue, fhir.IssueSeverityError, string(e.code)}
	}
	if e.status != 0 {
		info.status = e.status
	}
	return info
}

// pdsErrorf returns a pdsError with formatted diagnostics.
func pdsErrorf(c code, format string, args ...any) *pdsError {
	return &pdsError{code: c, diagnostics: fmt.Sprintf(format, args...)}
}

// outcome builds PDS's R4 OperationOutcome for e.
func outcome(e *pdsError) fhir.OperationOutcome {
	info := e.info()
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
// through the mock's logger and answered with a generic 500.
func (s *server) writeError(rw http.ResponseWriter, r *http.Request, err error) {
	var e *pdsError
	if !errors.As(err, &e) {
		s.log.Error("pds: answering 500", "method", r.Method, "url", r.URL.String(), "err", err)
		e = &pdsError{code: internalError, diagnostics: "Internal server error"}
	}
	if werr := s.writeJSON(rw, e.info().status, outcome(e)); werr != nil {
		s.log.Error("pds: encoding OperationOutcome", "err", werr)
		rw.WriteHeader(http.StatusInternalServerError)
	}
}

func ptr[T any](v T) *T { return &v }

// writeError is the writer for answers given in PDS's name without a
// server (WriteFault): its errors are typed, so nothing is logged.
func writeError(rw http.ResponseWriter, r *http.Request, err error) {
	(&server{log: slog.New(slog.DiscardHandler)}).writeError(rw, r, err)
}
