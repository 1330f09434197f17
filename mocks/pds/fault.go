package pds

import (
	"net/http"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"
)

// faultDefaults is the code PDS's error table gives a status that has no
// code of PDS's own answers above (pds-sds-fhir.md §2.5), with its issue
// type; WriteFault sends INTERNAL_SERVER_ERROR for any other status.
var faultDefaults = map[int]struct {
	code  code
	issue fhir.IssueType
}{
	http.StatusBadRequest:      {invalidValue, fhir.IssueTypeValue},
	http.StatusUnauthorized:    {accessDenied, fhir.IssueTypeForbidden},
	http.StatusForbidden:       {accessDenied, fhir.IssueTypeForbidden},
	http.StatusNotFound:        {resourceNotFound, fhir.IssueTypeNotFound},
	http.StatusRequestTimeout:  {"UNABLE_TO_CALL_SERVICE", fhir.IssueTypeTimeout},
	http.StatusTooManyRequests: {"TOO_MANY_REQUESTS", fhir.IssueTypeThrottled},
}

// WriteFault answers r with status in PDS's own error shape, for answers
// given in PDS's name (the sandbox's injected faults): spineCode, or the
// code PDS's table gives status when it is "". A code PDS answers with
// itself keeps its issue type, severity and display; any other is an error
// whose display is the code. The body goes through PDS's one writer.
func WriteFault(rw http.ResponseWriter, r *http.Request, status int, spineCode, diagnostics string) {
	e := &pdsError{code: code(spineCode), diagnostics: diagnostics, status: status, issue: fhir.IssueTypeException}
	if spineCode == "" {
		e.code = internalError
		if d, ok := faultDefaults[status]; ok {
			e.code, e.issue = d.code, d.issue
		}
	}
	rw.Header().Set("Content-Type", mediaFHIRJSON)
	writeError(rw, r, e)
}
