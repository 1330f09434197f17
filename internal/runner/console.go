package runner

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/journal"
)

// Print writes the results for a person: per scenario its hops with ✓ or
// ✗, each failure with its rule, spec section and diff, then the summary
// line "N passed, M failed" and the total time.
func Print(w io.Writer, results []Result, total time.Duration) {
	passed := 0
	for _, r := range results {
		if r.Skipped != "" {
			fmt.Fprintf(w, "SKIP %s (%s): %s\n", r.Scenario.Name, r.Scenario.File, r.Skipped)
			continue
		}
		mark := "PASS"
		if r.Passed {
			passed++
		} else {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "%s %s (%s) %s\n", mark, r.Scenario.Name, r.Scenario.File, r.Duration.Round(time.Millisecond))
		PrintHops(w, r, "    ")
		for _, f := range r.Failures {
			fmt.Fprintf(w, "  ✗ %s [%s]: %s\n", f.Rule, f.Section, f.Message)
			if f.Diff != "" {
				for _, line := range strings.Split(strings.TrimRight(f.Diff, "\n"), "\n") {
					fmt.Fprintf(w, "      %s\n", line)
				}
			}
		}
	}
	_, failed, skipped := Counts(results)
	fmt.Fprintf(w, "%d passed, %d failed%s in %s\n", passed, failed, skippedText(skipped), total.Round(time.Millisecond))
}

// PrintHops writes a result's hops one a line, each indented and marked
// ✓ or ✗ with its status, fault and failed checks, then the outcome: the
// sequence as Print shows it (and the JUnit report's system-out).
func PrintHops(w io.Writer, r Result, indent string) {
	for i, h := range r.Hops {
		// A provider hop stands for the SSP call that carried it (the
		// journal stores the provider leg first); an SSP hop shows on its
		// own only when the SSP answered without the provider.
		if h.To == journal.SSP && i > 0 && r.Hops[i-1].To == journal.Provider && r.Hops[i-1].Interaction == h.Interaction {
			continue
		}
		fmt.Fprintf(w, "%s%s %s\n", indent, HopMark(h), describeHop(h))
	}
	if r.Outcome != "" {
		fmt.Fprintf(w, "%soutcome: %s\n", indent, r.Outcome)
	}
}

// HopMark is ✓ for a hop that answered below 400 with every check passed,
// ✗ otherwise.
func HopMark(h journal.Hop) string {
	if HopFailed(h) {
		return "✗"
	}
	return "✓"
}

// HopFailed reports whether the hop errored, answered 400 or more, or
// failed a check.
func HopFailed(h journal.Hop) bool {
	return h.Status == 0 || h.Status >= 400 || h.Error != "" || h.Failed()
}

func describeHop(h journal.Hop) string {
	s := fmt.Sprintf("%s → %s", h.Name, statusText(h))
	if RunnerHop(h) {
		s += " (runner took the slot)"
	}
	if h.Fault != "" {
		s += " [fault: " + h.Fault + "]"
	}
	for _, v := range h.Checks {
		if !v.Passed {
			if v.Section != "" {
				s += fmt.Sprintf(" [check %s failed (%s): %s]", v.Check, v.Section, v.Message)
			} else {
				s += fmt.Sprintf(" [check %s failed: %s]", v.Check, v.Message)
			}
		}
	}
	return s
}

func statusText(h journal.Hop) string {
	if h.Error != "" {
		return h.Error
	}
	s := fmt.Sprint(h.Status)
	if h.Code != "" {
		s += " " + h.Code
	}
	return s
}
