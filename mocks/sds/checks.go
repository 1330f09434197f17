package sds

import (
	"net/http"
	"strings"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/spinerules"
)

// WithReport hands the mock the hook it reports its verdicts through
// (spinerules.Report): once per request, before it answers, Checks: every check of
// spinerules.SDSRules that applies, passed or failed. The sandbox's journal
// records them; without it they are discarded.
func WithReport(report spinerules.Report) Option {
	return func(s *server) { s.report = report }
}

// The mock's rules, from the table the judge lists (spinerules.SDSRules).
var (
	ruleCorrelationID = spinerules.MustRule(spinerules.SDSCorrelationIDUUID)
	ruleParameters    = spinerules.MustRule(spinerules.SDSParameters)
)

// prefixes are the system| prefixes each search parameter takes.
var prefixes = map[string][]string{
	"organization":               {gpc.SystemODSCode + "|"},
	"manufacturing-organization": {gpc.SystemODSCode + "|"},
	"identifier":                 {gpc.SystemInteractionID + "|", gpc.SystemPartyKey + "|"},
}

// Checks runs the named checks on a request (r.URL.Path below the SDS
// base), whatever the mock then answers. As the service reads
// X-Correlation-Id (correlationID), repeated headers are joined, so they
// fail, and an empty one counts as absent (a new id is generated): no
// verdict. SDS_PARAMETERS judges every organization and identifier value,
// blank values after system| included (§3.1 wants system|value, though the
// service ignores a blank optional one unless the mock is Strict); a
// request without parameters gets no verdict.
func Checks(r *http.Request) []spinerules.Verdict {
	var out []spinerules.Verdict
	if id := strings.Join(gpc.HeaderValues(r.Header, "X-Correlation-Id"), ","); id != "" {
		if spinerules.IsUUID(id) {
			out = append(out, ruleCorrelationID.Verdict(""))
		} else {
			out = append(out, ruleCorrelationID.Verdict("X-Correlation-Id '"+id+"' is not a UUID"))
		}
	}
	var bad []string
	q := r.URL.Query()
	for _, name := range []string{"organization", "manufacturing-organization", "identifier"} {
		for _, v := range q[name] {
			if !hasAnyPrefix(v, prefixes[name]) || strings.HasSuffix(v, "|") {
				bad = append(bad, name+"="+v)
			}
		}
	}
	if len(bad) > 0 {
		out = append(out, ruleParameters.Verdict("parameter without the right system| prefix or value: "+strings.Join(bad, ", ")))
	} else if len(q) > 0 {
		out = append(out, ruleParameters.Verdict(""))
	}
	return out
}

func hasAnyPrefix(s string, ps []string) bool {
	for _, p := range ps {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
