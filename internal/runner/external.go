package runner

import (
	"context"
	"net/http"
	"strings"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/journal"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
)

// JournalOutcome is the outcome an external consumer reached, read from
// the journal alone: whichever came last of a completed booking (booked),
// cancellation (cancelled) or amendment (amended) — told by the hop's
// interaction, not its name — and a failed request that was not later
// retried with success (an error at the hop it was sent to, with its status
// and Spine code); none when neither happened. The reason the built-in
// consumer gives (deceased, …) is not in the journal, so it is never part
// of this outcome.
func JournalOutcome(hops []journal.Hop) Outcome {
	hops = journal.InStartOrder(hops)
	outcome := outcomeKind(scenario.OutcomeNone)
	type request struct {
		to   journal.Party
		name string
	}
	var failed *request // the request whose failure is the outcome
	for _, h := range hops {
		if h.From != journal.Consumer || RunnerHop(h) {
			continue
		}
		key := request{h.To, h.Name}
		in := gpc.Interaction(h.Interaction)
		switch {
		case !ok(h.Status):
			outcome = Outcome{Kind: scenario.OutcomeError, Hop: string(h.To), Status: h.Status, Code: strings.TrimSpace(h.Code)}
			failed = &key
		case in == gpc.CreateAppointment && h.Status == http.StatusCreated:
			outcome, failed = outcomeKind(scenario.OutcomeBooked), nil
		case in == gpc.CancelAppointment:
			outcome, failed = outcomeKind(scenario.OutcomeCancelled), nil
		case in == gpc.AmendAppointment:
			outcome, failed = outcomeKind(scenario.OutcomeAmended), nil
		case failed != nil && key == *failed:
			// The failed request, retried with success: no longer the outcome.
			outcome, failed = outcomeKind(scenario.OutcomeNone), nil
		}
	}
	return outcome
}

// SessionVerdict judges a live session — typically one an external
// consumer drove — against its scenario's expectations, with the outcome
// read from the journal (GET /_admin/sessions/{id}/verdict).
//
// The verdict reads the consumer's requests, never the answers' bodies, so
// it takes the journal without them (Journal.Requests): judging a full
// journal costs about what the journal holds.
func SessionVerdict(ss *sandbox.Session, fixtures string) Result {
	hops := ss.Journal.Requests()
	outcome := JournalOutcome(hops)
	failures := verdict(ss.Scenario, outcome, hops, fixtures)
	return Result{Scenario: ss.Scenario, Passed: len(failures) == 0, Failures: failures, Hops: hops, Outcome: outcome}
}

// VerdictJSON is the admin API's view of a SessionVerdict.
type VerdictJSON struct {
	Session  string `json:"session"`
	Scenario string `json:"scenario"`
	// Status is pending (no traffic and no run yet: nothing to judge),
	// running (the built-in consumer's run is in flight), passed or
	// failed. Passed is true only for passed; Failures are empty while
	// pending or running.
	Status   string    `json:"status"`
	Passed   bool      `json:"passed"`
	Outcome  string    `json:"outcome"`
	Failures []Failure `json:"failures"`
	// Faults are the hops a fault applied to — from the scenario or added
	// live (POST …/faults, marked "(added live)") — so a verdict says
	// which failures the sandbox caused on purpose.
	Faults []FaultedHop `json:"faults"`
}

// FaultedHop is one hop a fault applied to.
type FaultedHop struct {
	Seq   int64  `json:"seq"`
	Step  string `json:"step"`
	Hop   string `json:"hop"`
	Fault string `json:"fault"`
}

// faultedHops lists the hops of hops that a fault applied to.
func faultedHops(hops []journal.Hop) []FaultedHop {
	out := []FaultedHop{}
	for _, h := range hops {
		if h.Fault != "" {
			out = append(out, FaultedHop{Seq: h.Seq, Step: h.Step, Hop: h.Name, Fault: h.Fault})
		}
	}
	return out
}

// Verdict statuses (VerdictJSON.Status).
const (
	VerdictPending = "pending"
	VerdictRunning = "running"
	VerdictPassed  = "passed"
	VerdictFailed  = "failed"
)

// AdminVerdict is the function sandbox.Config.Verdict takes.
func AdminVerdict(fixtures string) func(*sandbox.Session) any {
	return func(ss *sandbox.Session) any {
		run := ss.Run()
		switch {
		case run.Status == sandbox.RunRunning:
			return VerdictJSON{Session: ss.ID, Scenario: ss.Scenario.Name, Status: VerdictRunning, Outcome: scenario.OutcomeNone, Failures: []Failure{}, Faults: []FaultedHop{}}
		case run.Status == sandbox.RunNone && ss.Journal.Len() == 0:
			return VerdictJSON{Session: ss.ID, Scenario: ss.Scenario.Name, Status: VerdictPending, Outcome: scenario.OutcomeNone, Failures: []Failure{}, Faults: []FaultedHop{}}
		}
		res := SessionVerdict(ss, fixtures)
		fs := res.Failures
		if fs == nil {
			fs = []Failure{}
		}
		status := VerdictFailed
		if res.Passed {
			status = VerdictPassed
		}
		return VerdictJSON{Session: ss.ID, Scenario: ss.Scenario.Name, Status: status, Passed: res.Passed, Outcome: res.Outcome.String(), Failures: fs, Faults: faultedHops(res.Hops)}
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
