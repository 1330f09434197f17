package pds

import (
	"net/http"
	"strings"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/nhsnumber"
	"github.com/spine-sandbox/spine-sandbox/internal/spinerules"
)

// WithReport hands the mock the hook it reports its verdicts through
// (spinerules.Report): once per request, before it answers, Checks: every check of
// spinerules.PDSRules that applies, passed or failed. The sandbox's journal
// records them; without it they are discarded.
func WithReport(report spinerules.Report) Option {
	return func(s *server) { s.report = report }
}

// The mock's rules, from the table the judge lists (spinerules.PDSRules).
var (
	ruleRequestID = spinerules.MustRule(spinerules.PDSXRequestID)
	ruleMod11     = spinerules.MustRule(spinerules.PDSNHSNumberMod11)
)

// Checks runs the named checks on a request (r.URL.Path below the PDS
// base), whatever the mock then answers: the verdicts say what is wrong
// with the request even when an earlier failure is what PDS refuses. A
// header name in any case counts, and the first of repeated values is
// judged.
func Checks(r *http.Request) []spinerules.Verdict {
	var out []spinerules.Verdict
	switch id, ok := gpc.Header(r.Header, headerRequestID); {
	case !ok:
		out = append(out, ruleRequestID.Verdict("X-Request-ID header missing"))
	case !spinerules.IsUUID(id):
		out = append(out, ruleRequestID.Verdict("X-Request-ID '"+id+"' is not a UUID"))
	default:
		out = append(out, ruleRequestID.Verdict(""))
	}
	if nhs, ok := strings.CutPrefix(r.URL.Path, "/Patient/"); ok {
		nhs, _, _ = strings.Cut(nhs, "/")
		if nhsnumber.Valid(nhs) {
			out = append(out, ruleMod11.Verdict(""))
		} else {
			out = append(out, ruleMod11.Verdict("NHS number '"+nhs+"' fails Modulus 11"))
		}
	}
	return out
}
