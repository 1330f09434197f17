package runner

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/spine-sandbox/spine-sandbox/internal/journal"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
)

// JournalOutcome words the outcome an external consumer reached, read from
// the journal alone: "booked" once a booking answered 201; otherwise the
// error of the consumer's last failed request ("error ssp 403 CODE"), or
// "none" when nothing failed.
func JournalOutcome(hops []journal.Hop) string {
	hops = journal.InStartOrder(hops)
	outcome := scenario.OutcomeNone
	for _, h := range hops {
		if h.From != journal.Consumer || RunnerHop(h) {
			continue
		}
		if strings.HasSuffix(h.Name, ".book appointment") && h.Status == 201 {
			return scenario.OutcomeBooked
		}
		if h.Status >= 400 || h.Status == 0 {
			outcome = strings.TrimSpace(fmt.Sprintf("error %s %d %s", h.To, h.Status, h.Code))
		}
	}
	return outcome
}

// SessionVerdict judges a live session — typically one an external
// consumer drove — against its scenario's expectations, with the outcome
// read from the journal (GET /_admin/sessions/{id}/verdict).
func SessionVerdict(ss *sandbox.Session, fixtures string) Result {
	hops := ss.Journal.Hops()
	outcome := JournalOutcome(hops)
	failures := verdict(ss.Scenario, outcome, hops, fixtures)
	return Result{Scenario: ss.Scenario, Passed: len(failures) == 0, Failures: failures, Hops: hops, Outcome: outcome}
}

// VerdictJSON is the admin API's view of a SessionVerdict.
type VerdictJSON struct {
	Session  string    `json:"session"`
	Scenario string    `json:"scenario"`
	Passed   bool      `json:"passed"`
	Outcome  string    `json:"outcome"`
	Failures []Failure `json:"failures"`
}

// AdminVerdict is the function sandbox.Config.Verdict takes.
func AdminVerdict(fixtures string) func(*sandbox.Session) any {
	return func(ss *sandbox.Session) any {
		res := SessionVerdict(ss, fixtures)
		fs := res.Failures
		if fs == nil {
			fs = []Failure{}
		}
		return VerdictJSON{Session: ss.ID, Scenario: ss.Scenario.Name, Passed: res.Passed, Outcome: res.Outcome, Failures: fs}
	}
}

// RunSession makes the built-in consumer do the session's scenario `run:`
// against the live sandbox (sandbox.Config.Run, POST
// /_admin/sessions/{id}/run). The session's URLs are on the sandbox's public
// URL, so the sandbox must be listening there. How the run ended is in the
// journal; the error is for a run that could not start.
func RunSession(ctx context.Context, ss *sandbox.Session) error {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	defer tr.CloseIdleConnections()
	_, err := drive(ctx, ss, tr, ss.Scenario)
	return err
}
