// Package report writes the runner's results for machines and people:
// JUnit XML for CI (one testsuite, one testcase per scenario), Markdown
// with a Mermaid sequence diagram per scenario, and JSON with the full
// journal of every scenario.
//
// Issue 5 asks that the JUnit file validate against the common JUnit schema
// and that the Markdown render, and the tests prove both with outside tools:
//
//   - testdata/junit.xsd is the common JUnit format as CI systems read it
//     (the Ant/Jenkins shape: testsuites, testsuite, testcase, failure,
//     error, skipped, system-out, system-err), written for this project.
//     The tests run `xmllint --noout --schema testdata/junit.xsd` (Debian's
//     libxml2-utils) on reports full of characters XML must escape, and on
//     broken documents the schema must reject.
//   - tools/mermaid-check runs the real Mermaid parser (the npm package,
//     pinned in its package-lock.json) under Node over every ```mermaid
//     block the Markdown holds, and returns the arrows as Mermaid read them,
//     so the tests check the labels came through whole. Its render.html
//     also draws them in headless Chromium (when /usr/bin/chromium exists),
//     as a Markdown viewer would, and the tests check the drawn labels.
//
// The xmllint and Node checks skip when their tool is missing and fail when
// CI=true; .ci/run installs them (apt-get install libxml2-utils; npm ci in
// tools/mermaid-check).
package report

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"

	"github.com/spine-sandbox/spine-sandbox/internal/journal"
	"github.com/spine-sandbox/spine-sandbox/internal/runner"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
)

// JUnitSuites is the root of a JUnit report, in the shape the common JUnit
// schema (the Jenkins/Ant one) accepts.
type JUnitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []JUnitSuite `xml:"testsuite"`
}

// JUnitSuite is one run of scenarios.
type JUnitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr"`
	Cases     []JUnitCase `xml:"testcase"`
}

// JUnitSkipped marks a scenario that was not run, and says why.
type JUnitSkipped struct {
	Message string `xml:"message,attr"`
}

// JUnitCase is one scenario.
type JUnitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Skipped   *JUnitSkipped `xml:"skipped,omitempty"` // before failure, as the schema orders them
	Failure   *JUnitFailure `xml:"failure,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

// JUnitFailure lists why a scenario failed: the message joins the reasons,
// the text holds them with their diffs.
type JUnitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// JUnit writes the results as JUnit XML.
func JUnit(w io.Writer, results []runner.Result, total time.Duration, started time.Time) error {
	suite := JUnitSuite{Name: "spine-sandbox scenarios", Tests: len(results), Time: seconds(total),
		Timestamp: started.UTC().Format("2006-01-02T15:04:05")}
	for _, r := range results {
		c := JUnitCase{Name: caseName(r.Scenario), Classname: "scenario." + classname(r.Scenario.File), Time: seconds(r.Duration)}
		var seq strings.Builder
		runner.PrintHops(&seq, r, "")
		c.SystemOut = seq.String()
		if r.Skipped != "" {
			suite.Skipped++
			c.Skipped = &JUnitSkipped{Message: r.Skipped}
		} else if !r.Passed {
			suite.Failures++
			var msgs []string
			var text strings.Builder
			for _, f := range r.Failures {
				msgs = append(msgs, f.Rule+": "+f.Message)
				fmt.Fprintf(&text, "%s [%s]: %s\n", f.Rule, f.Section, f.Message)
				if f.Diff != "" {
					text.WriteString(f.Diff)
					if !strings.HasSuffix(f.Diff, "\n") {
						text.WriteString("\n")
					}
				}
			}
			c.Failure = &JUnitFailure{Message: strings.Join(msgs, "; "), Type: "expectation", Text: text.String()}
		}
		suite.Cases = append(suite.Cases, c)
	}
	doc := JUnitSuites{Name: suite.Name, Tests: suite.Tests, Failures: suite.Failures, Time: suite.Time, Suites: []JUnitSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// caseName is the scenario's name, or its file when the name is blank: the
// JUnit schema requires a testcase name that is not empty.
func caseName(sc *scenario.Scenario) string {
	if strings.TrimSpace(sc.Name) != "" {
		return sc.Name
	}
	if sc.File != "" {
		return sc.File
	}
	return "unnamed scenario"
}

// classname turns a file path into a dotted JUnit class name.
func classname(file string) string {
	file = strings.TrimSuffix(strings.TrimSuffix(file, ".yaml"), ".yml")
	r := strings.NewReplacer("/", ".", `\`, ".", " ", "_")
	return strings.Trim(r.Replace(file), ".")
}

// participants are the Mermaid lifelines, in the seed diagram's order.
var participants = []struct {
	party journal.Party
	name  string
}{
	{journal.Consumer, "Consumer"},
	{journal.PDS, "PDS"},
	{journal.SDS, "SDS"},
	{journal.SSP, "SSP"},
	{journal.Provider, "Provider"},
}

func participant(p journal.Party) string {
	for _, x := range participants {
		if x.party == p {
			return x.name
		}
	}
	return "Consumer"
}

// Mermaid returns the sequenceDiagram of one scenario's hops: a request
// arrow and a reply arrow per hop, in the order the requests were made;
// a failed hop's reply is a cross (--x) that says ✗, on a red band (rect)
// with a note naming the failed check.
func Mermaid(hops []journal.Hop) string {
	var b strings.Builder
	b.WriteString("sequenceDiagram\n")
	for _, p := range participants {
		fmt.Fprintf(&b, "    participant %s\n", p.name)
	}
	// The journal appends a hop when it completes, so the SSP→provider leg
	// comes before its consumer→SSP call; draw them nested instead.
	ordered := make([]journal.Hop, len(hops))
	copy(ordered, hops)
	for i := 0; i+1 < len(ordered); i++ {
		a, c := ordered[i], ordered[i+1]
		if a.From == journal.SSP && a.To == journal.Provider && c.To == journal.SSP && a.Interaction == c.Interaction {
			ordered[i], ordered[i+1] = c, a
			i++
		}
	}
	var stack []journal.Hop
	flush := func() {
		for len(stack) > 0 {
			h := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			reply(&b, h)
		}
	}
	for i, h := range ordered {
		from, to := participant(h.From), participant(h.To)
		label := h.Name
		if runner.RunnerHop(h) {
			label += " (runner takes the slot)"
		}
		fmt.Fprintf(&b, "    %s->>%s: %s\n", from, to, mermaidText(label))
		if h.To == journal.SSP && i+1 < len(ordered) && ordered[i+1].From == journal.SSP && ordered[i+1].Interaction == h.Interaction {
			stack = append(stack, h)
			continue
		}
		reply(&b, h)
		if h.From == journal.SSP {
			flush()
		}
	}
	flush()
	return b.String()
}

func reply(b *strings.Builder, h journal.Hop) {
	from, to := participant(h.To), participant(h.From)
	arrow := "-->>"
	text := fmt.Sprint(h.Status)
	if h.Error != "" {
		text = h.Error
	}
	if h.Code != "" {
		text += " " + h.Code
	}
	if !runner.HopFailed(h) {
		fmt.Fprintf(b, "    %s%s%s: %s\n", from, arrow, to, mermaidText(text))
		return
	}
	// A failed hop's reply is a cross on a red band, with a note naming
	// the first failed check (or the status), so it stands out in a long
	// diagram and says why without the JSON report.
	fmt.Fprintf(b, "    rect rgb(251, 225, 228)\n")
	fmt.Fprintf(b, "    %s--x%s: %s\n", from, to, mermaidText("✗ "+text))
	fmt.Fprintf(b, "    Note over %s,%s: %s\n", from, to, mermaidText(clip(failedNote(h), 160)))
	fmt.Fprintf(b, "    end\n")
}

// failedNote says why a hop failed: its first failed check, with the spec
// section and message, or else its status or transport error.
func failedNote(h journal.Hop) string {
	for _, v := range h.Checks {
		if !v.Passed {
			note := "failed check " + v.Check
			if v.Section != "" {
				note += " (§" + v.Section + ")"
			}
			if v.Message != "" {
				note += ": " + v.Message
			}
			return note
		}
	}
	if h.Error != "" {
		return "no response: " + h.Error
	}
	if h.Status == 0 {
		return "no response"
	}
	return fmt.Sprintf("answered %d", h.Status)
}

// clip keeps at most n runes of s, marking a cut with an ellipsis.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// mermaidEscaper spells, as Mermaid entity codes (#NN;, which Mermaid draws
// as the character itself), the characters a sequenceDiagram message cannot
// hold as they are: in Mermaid's sequence grammar a message runs from the
// colon up to the first newline, ';' or '#' — ';' ends the statement (the
// rest is a syntax error) and '#' starts a comment (the rest is silently
// dropped) — and the renderer reads <br> (in any spelling) as a line
// break, so '<' and '>' are escaped too. Colons after the first are text.
// An entity code in the text itself survives: its '#' and ';' are escaped.
var mermaidEscaper = strings.NewReplacer("#", "#35;", ";", "#59;", "<", "#60;", ">", "#62;")

// mermaidText keeps a message on one line, valid UTF-8 and clear of Mermaid
// syntax, so the diagram parses and draws the text as it was.
func mermaidText(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(strings.ReplaceAll(s, "\r\n", "\n"), "\uFFFD"))
	return mermaidEscaper.Replace(strings.TrimSpace(s))
}

// Markdown writes a summary table and, per scenario, its failures and its
// sequence diagram.
func Markdown(w io.Writer, results []runner.Result, total time.Duration) error {
	var b strings.Builder
	passed, failed, _ := runner.Counts(results)
	fmt.Fprintf(&b, "# spine-sandbox scenarios\n\n%d passed, %d failed%s in %s\n\n", passed, failed, runner.SkippedText(results), total.Round(time.Millisecond))
	b.WriteString("| scenario | result | outcome | time |\n|---|---|---|---|\n")
	for _, r := range results {
		word := verdictWord(r.Passed)
		if r.Skipped != "" {
			word = "skipped"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", cell(r.Scenario.Name), word, cell(r.Outcome.String()), r.Duration.Round(time.Millisecond))
	}
	// Failures first, in the order run, then the passes, then the skipped;
	// a passing scenario's diagram is folded in <details> so the failures
	// are what a reader sees.
	ordered := make([]runner.Result, 0, len(results))
	for _, group := range []func(runner.Result) bool{
		func(r runner.Result) bool { return r.Skipped == "" && !r.Passed },
		func(r runner.Result) bool { return r.Skipped == "" && r.Passed },
		func(r runner.Result) bool { return r.Skipped != "" },
	} {
		for _, r := range results {
			if group(r) {
				ordered = append(ordered, r)
			}
		}
	}
	for _, r := range ordered {
		if r.Skipped != "" {
			fmt.Fprintf(&b, "\n## ⏭ %s\n\nFile `%s`: skipped, %s.\n", oneLine(r.Scenario.Name), r.Scenario.File, oneLine(r.Skipped))
			continue
		}
		fmt.Fprintf(&b, "\n## %s %s\n\n", verdictMark(r.Passed), oneLine(r.Scenario.Name))
		if r.Scenario.Description != "" {
			fmt.Fprintf(&b, "%s\n\n", r.Scenario.Description)
		}
		fmt.Fprintf(&b, "File `%s`, outcome `%s`.\n\n", r.Scenario.File, r.Outcome)
		for _, f := range r.Failures {
			fmt.Fprintf(&b, "- **%s** (%s): %s\n", f.Rule, f.Section, oneLine(f.Message))
			if f.Diff != "" {
				diff := strings.TrimRight(f.Diff, "\n")
				fence := codeFence(diff)
				fmt.Fprintf(&b, "\n%sdiff\n%s\n%s\n\n", fence, diff, fence)
			}
		}
		if r.Passed {
			fmt.Fprintf(&b, "\n<details><summary>Sequence diagram</summary>\n\n```mermaid\n%s```\n\n</details>\n", Mermaid(r.Hops))
			continue
		}
		fmt.Fprintf(&b, "\n```mermaid\n%s```\n", Mermaid(r.Hops))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// cell keeps a table cell on its row: a newline would end the table and a
// bare | would start a new column.
func cell(s string) string { return strings.ReplaceAll(oneLine(s), "|", `\|`) }

// oneLine joins a heading's or list item's lines, which Markdown would
// otherwise split into separate paragraphs.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

// codeFence is a backtick fence longer than any run of backticks in text, so
// a diff that holds a Markdown code block (a fixture body, say) cannot close
// its own block early (CommonMark §4.5: the closing fence must be at least as
// long as the opening one).
func codeFence(text string) string {
	fence := "```"
	for strings.Contains(text, fence) {
		fence += "`"
	}
	return fence
}

func verdictWord(ok bool) string {
	if ok {
		return "passed"
	}
	return "failed"
}

func verdictMark(ok bool) string {
	if ok {
		return "✓"
	}
	return "✗"
}

// JSONResult is one scenario in the JSON report.
type JSONResult struct {
	Name        string           `json:"name"`
	File        string           `json:"file"`
	Description string           `json:"description,omitempty"`
	Passed      bool             `json:"passed"`
	Skipped     string           `json:"skipped,omitempty"` // why it was not run
	Outcome     string           `json:"outcome"`
	DurationMS  int64            `json:"duration_ms"`
	Sequence    []string         `json:"sequence"`
	Failures    []runner.Failure `json:"failures"`
	Journal     []journal.Hop    `json:"journal"`
}

// JSONReport is the JSON report.
type JSONReport struct {
	Passed     int          `json:"passed"`
	Failed     int          `json:"failed"`
	Skipped    int          `json:"skipped"`
	DurationMS int64        `json:"duration_ms"`
	Scenarios  []JSONResult `json:"scenarios"`
}

// JSON writes the results with every scenario's full journal.
func JSON(w io.Writer, results []runner.Result, total time.Duration) error {
	rep := JSONReport{DurationMS: total.Milliseconds(), Scenarios: []JSONResult{}}
	for _, r := range results {
		switch {
		case r.Skipped != "":
			rep.Skipped++
		case r.Passed:
			rep.Passed++
		default:
			rep.Failed++
		}
		seq := runner.Sequence(r.Hops)
		if seq == nil {
			seq = []string{}
		}
		fails := r.Failures
		if fails == nil {
			fails = []runner.Failure{}
		}
		rep.Scenarios = append(rep.Scenarios, JSONResult{Name: r.Scenario.Name, File: r.Scenario.File, Description: r.Scenario.Description,
			Passed: r.Passed, Skipped: r.Skipped, Outcome: r.Outcome.String(), DurationMS: r.Duration.Milliseconds(), Sequence: seq, Failures: fails, Journal: r.Hops})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}
