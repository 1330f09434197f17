package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/spine-sandbox/spine-sandbox/internal/runner"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
)

// --format github makes check and run also print GitHub Actions workflow
// commands (::error file=…,line=…,col=…::message), which GitHub pins to the
// line of the scenario file in the pull request's diff and summary. The
// usual output is printed as well; GitLab and other CIs read the JUnit
// report instead.

// formats are the values --format takes.
var formats = []string{"text", "github"}

func validFormat(f string) error {
	for _, ok := range formats {
		if f == ok {
			return nil
		}
	}
	return fmt.Errorf("--format %q: want %s", f, strings.Join(formats, " or "))
}

// ghEscape escapes a workflow command's message.
func ghEscape(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// ghProperty escapes a workflow command's property value.
func ghProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// ghError formats one ::error command; line and col are left out when 0.
func ghError(file string, line, col int, title, msg string) string {
	props := []string{"file=" + ghProperty(file)}
	if line > 0 {
		props = append(props, fmt.Sprintf("line=%d", line))
	}
	if col > 0 {
		props = append(props, fmt.Sprintf("col=%d", col))
	}
	if title != "" {
		props = append(props, "title="+ghProperty(title))
	}
	return "::error " + strings.Join(props, ",") + "::" + ghEscape(msg)
}

// problemLine is how check prints a problem: "    file:line:col: message"
// (scenario.Problem.String), and a file it could not read: "FAIL path: why".
var (
	problemLine = regexp.MustCompile(`^    (.+?):(\d+):(\d+): (.*)$`)
	failLine    = regexp.MustCompile(`^FAIL (.+?): (.*)$`)
)

// checkAnnotations turns check's output into workflow commands.
func checkAnnotations(out []byte, w io.Writer) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if m := problemLine.FindStringSubmatch(l); m != nil {
			var line, col int
			fmt.Sscan(m[2], &line)
			fmt.Sscan(m[3], &col)
			fmt.Fprintln(w, ghError(m[1], line, col, "scenario check", m[4]))
		} else if m := failLine.FindStringSubmatch(l); m != nil {
			fmt.Fprintln(w, ghError(m[1], 0, 0, "scenario check", m[2]))
		}
	}
}

// runAnnotations prints one workflow command per unmet expectation, at the
// expectation's key in the scenario file.
func runAnnotations(results []runner.Result, w io.Writer) {
	for _, r := range results {
		if !r.Failed() {
			continue
		}
		for _, f := range r.Failures {
			pos := failurePos(r.Scenario, f.Rule)
			msg := f.Message
			if f.Diff != "" {
				msg += "\n" + f.Diff
			}
			fmt.Fprintln(w, ghError(r.Scenario.File, pos.Line, pos.Column, r.Scenario.Name+": "+f.Rule, msg))
		}
	}
}

// failurePos is where in the scenario the rule's expectation is written.
func failurePos(sc *scenario.Scenario, rule string) scenario.Pos {
	if sc.Expect == nil {
		if rule == "run" && sc.Run != nil {
			return sc.At.Of("run")
		}
		return sc.At.Pos
	}
	key, _, _ := strings.Cut(rule, ".") // checks.pass → checks
	if rule == "run" {
		return sc.At.Of("run")
	}
	return sc.Expect.At.Of(key)
}
