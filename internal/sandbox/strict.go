package sandbox

import (
	"encoding/json"
	"net/http"

	"github.com/spine-sandbox/spine-sandbox/internal/conformance"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/journal"
	"github.com/spine-sandbox/spine-sandbox/mocks/sds"
	"github.com/spine-sandbox/spine-sandbox/mocks/ssp"
)

// Strict mode (issue 5): a consumer request that fails an error check no
// mock enforces (conformance.Answer.By == BySandbox) is answered here, in
// the shape of the service that would refuse it, before any mock or fault
// runs, so nothing is half applied: a refused booking books nothing. Checks
// a mock enforces are left to that mock; lenient sessions are never
// refused here.

// strictRefusal returns the handler that answers a request whose verdicts
// are judged, or nil when the request goes on to the mock.
func (ss *Session) strictRefusal(judged []journal.Verdict) http.HandlerFunc {
	if ss.Lenient {
		return nil
	}
	c, v, ok := conformance.Refusal(judged)
	if !ok {
		return nil
	}
	return func(w http.ResponseWriter, r *http.Request) { writeStrict(w, r, c.Answer, v.Message) }
}

// writeStrict writes answer a; diagnostics names what was wrong where the
// shape carries diagnostics of its own.
func writeStrict(w http.ResponseWriter, r *http.Request, a conformance.Answer, diagnostics string) {
	switch a.Shape {
	case journal.SDS:
		e := sds.BadRequest(diagnostics)
		e.Status, e.Code, e.Issue = a.Status, gpc.Code(a.Code), a.Issue
		sds.WriteError(w, r, e)
		return
	case journal.SSP:
		// Exactly as mocks/ssp writes its own refusals (gpconnect-1.6.md §1.5).
		ssp.WriteFailure(w, &ssp.Failure{Status: a.Status, IssueCode: a.Issue, Message: a.Code})
	default:
		// The provider's GPConnect-OperationOutcome-1 (§6.1). No check the
		// sandbox answers has PDS's shape; one that did would need mocks/pds
		// to export its writer.
		e := gpc.StatusErrorf(a.Status, gpc.Code(a.Code), "%s", diagnostics)
		e.Issue = a.Issue
		body, _ := json.Marshal(gpc.ProviderOutcome(e))
		w.Header().Set("Content-Type", "application/fhir+json;charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(a.Status)
		_, _ = w.Write(body)
	}
}
