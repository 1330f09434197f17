package sandbox

import (
	"net/http"

	"github.com/spine-sandbox/spine-sandbox/internal/conformance"
	"github.com/spine-sandbox/spine-sandbox/internal/journal"
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
	c, _, ok := conformance.Refusal(judged)
	if !ok {
		return nil
	}
	return refusal(c.Answer)
}

// refusal answers a. Apart from strictRefusal, so that the closure's
// variable is allocated only for a refusal, not for every request.
func refusal(a conformance.Answer) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) { writeStrict(w, a) }
}

// writeStrict writes answer a. Every check the sandbox answers itself has
// the SSP's shape (conformance.Refusal); the SSP's own writer answers it,
// exactly as mocks/ssp writes its refusals (gpconnect-1.6.md §1.5).
func writeStrict(w http.ResponseWriter, a conformance.Answer) {
	ssp.WriteFailure(w, &ssp.Failure{Status: a.Status, IssueCode: a.Issue, Message: a.Code})
}
