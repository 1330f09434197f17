package runner

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/journal"
)

// Print writes the results for a person with every scenario's sequence
// (PrintWith, Verbose), without colour.
func Print(w io.Writer, results []Result, total time.Duration) {
	PrintWith(w, results, total, PrintOptions{Verbosity: Verbose})
}

// Verbosity is how much PrintWith says about each scenario.
type Verbosity int

const (
	// Normal: one line per passing scenario, the whole sequence and the
	// failures of a failing one.
	Normal Verbosity = iota
	// Verbose: the whole sequence of every scenario.
	Verbose
	// Quiet: failing scenarios only.
	Quiet
)

// PrintOptions say how PrintWith prints.
type PrintOptions struct {
	Verbosity Verbosity
	// Color adds ANSI colours (the command sets it on a terminal without
	// NO_COLOR, never in CI logs or tests).
	Color bool
}

// ANSI colours for PrintWith.
const (
	green, yellow, red, bold, reset = "\x1b[32m", "\x1b[33m", "\x1b[31m", "\x1b[1m", "\x1b[0m"
)

// PrintWith writes the results for a person: per scenario a PASS or FAIL
// line, its hops (each ✓, ⚡ for a failure the scenario planned — a fault
// it injected, a check it expects to fire — or ✗), each failure with its
// rule, spec section and diff; then a summary naming each failed scenario
// with its first failed rule, and the closing line "N passed, M failed in
// T" (CI reads that line: keep it as it is).
func PrintWith(w io.Writer, results []Result, total time.Duration, o PrintOptions) {
	paint := func(color, s string) string {
		if !o.Color {
			return s
		}
		return color + s + reset
	}
	passed := 0
	var failed []Result
	for _, r := range results {
		if r.Skipped != "" {
			fmt.Fprintf(w, "SKIP %s (%s): %s\n", r.Scenario.Name, r.Scenario.File, r.Skipped)
			continue
		}
		mark := paint(green, "PASS")
		if r.Passed {
			passed++
		} else {
			mark = paint(red, "FAIL")
			failed = append(failed, r)
		}
		if r.Passed && o.Verbosity == Quiet {
			continue
		}
		fmt.Fprintf(w, "%s %s (%s) %s", mark, r.Scenario.Name, r.Scenario.File, r.Duration.Round(time.Millisecond))
		if r.Passed && o.Verbosity == Normal {
			if n := plannedFailures(r); n > 0 {
				fmt.Fprintf(w, " %s", paint(yellow, fmt.Sprintf("⚡ %d planned failure(s)", n)))
			}
			fmt.Fprintln(w)
			continue
		}
		fmt.Fprintln(w)
		printHops(w, r, "    ", paint)
		for _, f := range r.Failures {
			fmt.Fprintf(w, "  %s %s [%s]: %s\n", paint(red, "✗"), f.Rule, f.Section, f.Message)
			if f.Diff != "" {
				for _, line := range strings.Split(strings.TrimRight(f.Diff, "\n"), "\n") {
					fmt.Fprintf(w, "      %s\n", line)
				}
			}
		}
	}
	if len(failed) > 0 {
		fmt.Fprintf(w, "\n%s\n", paint(bold, "failed:"))
		for _, r := range failed {
			first := "no expectation failed; the run did not complete"
			if len(r.Failures) > 0 {
				first = r.Failures[0].Rule + ": " + r.Failures[0].Message
			}
			fmt.Fprintf(w, "  %s %s (%s): %s\n", paint(red, "✗"), r.Scenario.Name, r.Scenario.File, first)
		}
	}
	_, nfailed, skipped := Counts(results)
	fmt.Fprintf(w, "%d passed, %d failed%s in %s\n", passed, nfailed, skippedText(skipped), total.Round(time.Millisecond))
}

// plannedFailures counts the hops of r that failed as the scenario
// planned.
func plannedFailures(r Result) int {
	n := 0
	for i, h := range r.Hops {
		if carried(r.Hops, i) {
			continue
		}
		if HopFailed(h) && planned(r, h) {
			n++
		}
	}
	return n
}

// planned reports whether h's failure is one the scenario meant to happen:
// any failure in a scenario that passed (its expectations accounted for
// it), a fault it injected, or a check its expect.checks.fire lists.
func planned(r Result, h journal.Hop) bool {
	if r.Passed || h.Fault != "" {
		return true
	}
	var fire []string
	if r.Scenario != nil && r.Scenario.Expect != nil && r.Scenario.Expect.Checks != nil {
		fire = r.Scenario.Expect.Checks.Fire
	}
	for _, v := range h.Checks {
		if !v.Passed && slices.Contains(fire, v.Check) {
			return true
		}
	}
	return false
}

// PrintHops writes a result's hops one a line, each indented and marked
// ✓ or ✗ with its status, fault and failed checks, then the outcome: the
// sequence as Print shows it (and the JUnit report's system-out).
func PrintHops(w io.Writer, r Result, indent string) {
	printHops(w, r, indent, func(_, s string) string { return s })
}

func printHops(w io.Writer, r Result, indent string, paint func(color, s string) string) {
	for i, h := range r.Hops {
		// A provider hop stands for the SSP call that carried it (the
		// journal stores the provider leg first); an SSP hop shows on its
		// own only when the SSP answered without the provider.
		if carried(r.Hops, i) {
			continue
		}
		mark := paint(green, "✓")
		switch {
		case HopFailed(h) && planned(r, h):
			mark = paint(yellow, "⚡")
		case HopFailed(h):
			mark = paint(red, "✗")
		}
		fmt.Fprintf(w, "%s%s %s\n", indent, mark, describeHop(h))
	}
	if r.Outcome.Kind != "" {
		fmt.Fprintf(w, "%soutcome: %s\n", indent, r.Outcome)
	}
}

// carried reports whether hops[i] is an SSP hop whose provider leg, just
// before it, stands for it.
func carried(hops []journal.Hop, i int) bool {
	h := hops[i]
	return h.To == journal.SSP && i > 0 && hops[i-1].To == journal.Provider && hops[i-1].Interaction == h.Interaction
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
		s += " [" + faultLabel(h) + "]"
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

// faultLabel says what an injected fault did: a delay the consumer gave
// up during is not a dropped connection.
func faultLabel(h journal.Hop) string {
	what := h.Fault
	if _, after, ok := strings.Cut(h.Fault, " fault: "); ok {
		what = after
	}
	switch {
	case strings.Contains(what, "drop"):
		return "fault injected as planned: connection dropped (" + what + ")"
	case strings.Contains(what, "delay") && !strings.Contains(what, "status") && h.Status == 0:
		return "fault injected as planned: " + what + "; the consumer gave up waiting"
	case strings.Contains(what, "delay") && !strings.Contains(what, "status"):
		return "fault injected as planned: " + what + ", then the real answer"
	}
	return "fault injected as planned: " + what
}

func statusText(h journal.Hop) string {
	if h.Error != "" {
		if h.Status == 0 && strings.Contains(h.Fault, "delay") && !strings.Contains(h.Fault, "drop") {
			return "no answer in time"
		}
		return h.Error
	}
	s := fmt.Sprint(h.Status)
	if h.Code != "" {
		s += " " + h.Code
	}
	return s
}
