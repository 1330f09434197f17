package scenario

import (
	"fmt"
	"strings"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/suggest"
)

// Help for authors: "did you mean" for a misspelt name, a real-date error
// worded as such, a tab named as the problem, and warnings for what loads
// but probably is not what was meant (Scenario.Warnings).

// interactionHint is ` (did you mean "book appointment"?)` for a misspelt
// interaction name, "" when none is near.
func interactionHint(s string) string {
	names := make([]string, 0, len(gpc.Interactions))
	for _, in := range gpc.Interactions {
		names = append(names, in.Name)
	}
	return suggest.Hint(s, names)
}

// dateProblem words why s, which failed to parse as yyyy-mm-dd, is not a
// date: a well-formed date that does not exist is said to be so.
func dateProblem(s string) string {
	var y, m, day int
	if len(s) == 10 && s[4] == '-' && s[7] == '-' {
		if _, err := fmt.Sscanf(s, "%4d-%2d-%2d", &y, &m, &day); err == nil {
			switch {
			case m < 1 || m > 12:
				return fmt.Sprintf("%q is not a real date: there is no month %d", s, m)
			default:
				last := time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
				return fmt.Sprintf("%q is not a real date: %s %d has %d days", s, time.Month(m), y, last)
			}
		}
	}
	return fmt.Sprintf("date %q is not yyyy-mm-dd", s)
}

// tabProblem says so when line (1-based) of data holds a tab: YAML
// refuses tabs for indentation with a message that does not name them.
func tabProblem(data []byte, line int) string {
	lines := strings.Split(string(data), "\n")
	if line < 1 || line > len(lines) {
		return ""
	}
	for _, l := range lines[max(line-2, 0):min(line+1, len(lines))] {
		if strings.Contains(l, "\t") {
			return "a tab character near here: YAML indents with spaces only (replace the tab with spaces); "
		}
	}
	return ""
}

// Warnings are what loads but is probably not what the author meant, at
// its line and column: `spine-sandbox check` prints them without failing.
func (s *Scenario) Warnings() []Problem { return s.warnings }

func (d *decoder) warnAt(s *Scenario, a At, key, format string, args ...any) {
	p := a.Of(key)
	s.warnings = append(s.warnings, Problem{d.file, p.Line, p.Column, fmt.Sprintf(format, args...)})
}

// worldWarnings: a section that replaces the built-in world's whole list,
// and a run.nhs_number or run.ods one edit away from one of the world's.
func (d *decoder) worldWarnings(s *Scenario, givenPatients, givenPractices bool) {
	if s.Extends == "builtin" && d.base != nil {
		base := d.base()
		if givenPatients {
			d.warnAt(s, s.At, "patients", "patients: with extends: builtin this list replaces the built-in world's %d patients whole (lists are not merged); list the built-in ones you need too", len(base.Patients))
		}
		if givenPractices {
			d.warnAt(s, s.At, "practices", "practices: with extends: builtin this list replaces the built-in world's %d practices whole (lists are not merged); list the built-in ones you need too", len(base.Practices))
		}
	}
	if r := s.Run; r != nil {
		var nhs, ods []string
		for _, p := range s.Patients {
			if p.NHSNumber == r.NHSNumber {
				nhs = nil
				break
			}
			nhs = append(nhs, string(p.NHSNumber))
		}
		for _, p := range s.Practices {
			if p.ODS == r.ODS {
				ods = nil
				break
			}
			ods = append(ods, string(p.ODS))
		}
		if r.NHSNumber != "" && len(nhs) > 0 {
			if c := suggest.Closest(string(r.NHSNumber), nhs); c != "" {
				d.warnAt(s, r.At, "nhs_number", "run.nhs_number %s is not one of the world's patients (did you mean %s?)", r.NHSNumber, c)
			}
		}
		if r.ODS != "" && len(ods) > 0 {
			if c := suggest.Closest(string(r.ODS), ods); c != "" {
				d.warnAt(s, r.At, "ods", "run.ods %s is not one of the world's practices (did you mean %s?)", r.ODS, c)
			}
		}
	}
}
