package spinerules

import "net/http"

// Verdict is one named check's result on one request, as the mock that
// ran the check reports it through its hook (Report): the sandbox turns it
// into a journal verdict, taking the severity from the judge's table
// (internal/conformance).
type Verdict struct {
	Check   string // stable name, e.g. PDS_X_REQUEST_ID
	Section string // where the spec says so, with its document: "pds-sds-fhir.md §2.2"
	Passed  bool
	Message string // why it failed; "" when it passed
}

// Report is the hook a mock is handed to report its verdicts on a
// request, once per request, every check it ran (passed or failed), in the
// order it ran them. A nil Report discards them.
type Report func(r *http.Request, vs []Verdict)

// Rule describes one named check a mock runs on its requests.
type Rule struct {
	Name    string // stable name, as in Verdict.Check
	What    string // what must hold
	Section string // where the spec says so, with its document
}

// Verdict is r's verdict on a request: passed when message is "".
func (r Rule) Verdict(message string) Verdict {
	return Verdict{Check: r.Name, Section: r.Section, Passed: message == "", Message: message}
}

// The names of the checks mocks/pds and mocks/sds run on every request,
// stable for journals, reports and scenarios.
const (
	PDSXRequestID        = "PDS_X_REQUEST_ID"
	PDSNHSNumberMod11    = "PDS_NHS_NUMBER_MOD11"
	SDSCorrelationIDUUID = "SDS_CORRELATION_ID_UUID"
	SDSParameters        = "SDS_PARAMETERS"
)

// PDSRules are mocks/pds's checks, in the order it runs them.
var PDSRules = []Rule{
	{PDSXRequestID, "PDS requests carry an X-Request-ID header that is a UUID", "pds-sds-fhir.md §2.2"},
	{PDSNHSNumberMod11, "the NHS number in /Patient/{nhs} passes the Modulus 11 check", "pds-sds-fhir.md §2.6"},
}

// SDSRules are mocks/sds's checks, in the order it runs them.
var SDSRules = []Rule{
	{SDSCorrelationIDUUID, "an X-Correlation-Id sent to SDS is a UUID", "pds-sds-fhir.md §3.3"},
	{SDSParameters, "SDS organization and identifier parameters carry the right system| prefix and a value", "pds-sds-fhir.md §3.1, §3.2"},
}

// RuleNamed returns the PDS or SDS rule called name.
func RuleNamed(name string) (Rule, bool) {
	for _, rs := range [][]Rule{PDSRules, SDSRules} {
		for _, r := range rs {
			if r.Name == name {
				return r, true
			}
		}
	}
	return Rule{}, false
}

// MustRule returns the PDS or SDS rule called name, for a mock's table of
// its own rules; a name missing from the tables is a programming error.
func MustRule(name string) Rule {
	r, ok := RuleNamed(name)
	if !ok {
		panic("spinerules: no rule " + name)
	}
	return r
}
