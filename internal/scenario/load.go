// Package scenario reads scenario files: the YAML that names a world
// (consumer system, PDS patients, practices with their SDS entries and
// provider records, schedules and slots), faults to inject per hop, what the
// built-in consumer should do and what must be seen. Everything is parsed
// and checked at load time (STYLE.md lesson 12), in one pass (LoadOptions):
// the schema, the references between sections, the conformance check names
// handed in (Options.CheckNames) and the world as it would be built at the
// load's clock (Options.Now), every mistake of every kind reported at once
// with its file:line:column, so request handling and the runner only look
// things up. Relative dates ("+1d 09:00", "next monday") resolve in
// Europe/London when a session starts, so files never go stale. The
// package keeps no mutable state: clocks and limits are passed in, and the
// built-in world is parsed on first use.
package scenario

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Options are what a load checks a scenario against. The zero value
// checks against DefaultLimits and time.Now, and leaves expect.checks'
// names unchecked.
type Options struct {
	// Limits bound the world's slots; zero fields take DefaultLimits.
	Limits Limits
	// Now is the clock relative dates are ordered against at load ("end
	// after start"), and the world is checked at, when the scenario does
	// not pin its own (now:); nil means time.Now.
	Now func() time.Time
	// CheckNames are the conformance check names expect.checks may name
	// (conformance.ScenarioChecks: internal/conformance imports this
	// package, so the names are handed in). Nil leaves the names
	// unchecked.
	CheckNames []string
	// More are the caller's own checks of the world, made in the same
	// pass (the sandbox's: practice endpoints against its upstream
	// policy). Each gets the scenario as decoded — a value that did not
	// decode is left zero, its problem reported — and its problems join
	// the others, in file order.
	More []func(*Scenario) []Problem
}

func (o Options) withDefaults() Options {
	o.Limits = o.Limits.withDefaults()
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Load parses and validates one scenario. file names it in problems and in
// Scenario.File. Every mistake is reported, as a *LoadError.
func Load(file string, data []byte) (*Scenario, error) {
	return LoadOptions(file, data, Options{})
}

// LoadFile loads the scenario at path.
func LoadFile(path string) (*Scenario, error) {
	return LoadFileOptions(path, Options{})
}

// LoadOptions parses and validates one scenario against o in one pass:
// the schema (unknown keys, wrong types, bad values), the references
// between sections and the combinations of keys, the check names of
// expect.checks (o.CheckNames), and the world it describes at o.Now (slot
// limits, slots that would end before they start). Every problem of every
// kind is reported at once, as one *LoadError in file order; a value that
// did not decode is left out of the checks that span values, so one
// mistake gives one problem.
func LoadOptions(file string, data []byte, o Options) (*Scenario, error) {
	s, probs := load(file, data, o.withDefaults(), Default)
	if len(probs) > 0 {
		return nil, &LoadError{Problems: probs}
	}
	return s, nil
}

// LoadFileOptions is LoadOptions of the file at path.
func LoadFileOptions(path string, o Options) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return LoadOptions(path, data, o)
}

// LoadDir loads every *.yaml and *.yml file below path, recursively, in
// lexical order of their paths. It returns the scenarios that loaded and,
// when any failed, a *LoadError holding every file's problems.
func LoadDir(path string) ([]*Scenario, error) {
	files, err := scenarioFiles(path)
	if err != nil {
		return nil, err
	}
	var out []*Scenario
	var all []Problem
	for _, f := range files {
		s, err := LoadFile(f)
		var le *LoadError
		switch {
		case errors.As(err, &le):
			all = append(all, le.Problems...)
		case err != nil:
			return nil, err
		default:
			out = append(out, s)
		}
	}
	if len(all) > 0 {
		return out, &LoadError{Problems: all}
	}
	return out, nil
}

func scenarioFiles(root string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			files = append(files, p)
		}
		return nil
	})
	slices.Sort(files)
	return files, err
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// load is the one pass. base is the world extends: builtin starts from;
// it is handed in (Default, or nil for the built-in world itself) so that
// the built-in world's own lazy load does not refer back to itself.
func load(file string, data []byte, o Options, base func() *Scenario) (*Scenario, []Problem) {
	d := &decoder{file: file, now: o.Now(), base: base}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, []Problem{{file, 1, 1, "empty scenario file"}}
		}
		return nil, []Problem{syntaxProblem(file, data, err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, []Problem{{file, extra.Line, extra.Column, "a scenario file holds one YAML document; found a second"}}
	} else if !errors.Is(err, io.EOF) {
		return nil, []Problem{syntaxProblem(file, data, err)}
	}
	root := doc.Content[0]
	s := &Scenario{limits: o.Limits}
	d.budget = countNodes(root) + aliasBudget
	d.decode(root, reflectValue(s), "scenario", nil)
	s.File = file
	// Past the alias budget the values are cut short: nothing more can be
	// trusted, and counting them could be the very work the budget
	// refuses.
	if !d.overBudget && s.At.decoded {
		// Cross references, on the values that decoded.
		d.validate(s)
		// Check names, against the set handed in.
		if o.CheckNames != nil {
			d.problems = append(d.problems, s.UnknownChecks(o.CheckNames)...)
		}
		// The world, as it would be built now: counted on the decoded
		// values, where every alias is a copy.
		d.problems = append(d.problems, s.worldProblems(s.pinnedOr(d.now), "")...)
		for _, more := range o.More {
			d.problems = append(d.problems, more(s)...)
		}
	}
	SortProblems(d.problems)
	return s, d.problems
}

// SortProblems puts problems in file order: by file, line and column, and
// in the order found for problems at one place. A LoadError's problems are
// in this order; a caller that adds its own sorts them again.
func SortProblems(ps []Problem) {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
}

// syntaxProblem turns a yaml.v3 error into a problem. yaml.v3 reports a
// line but no column for syntax errors, so the column is 1.
func syntaxProblem(file string, data []byte, err error) Problem {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return Problem{file, line, 1, "YAML syntax error: " + tabProblem(data, line) + m[2]}
	}
	return Problem{file, 1, 1, "YAML syntax error: " + strings.TrimPrefix(msg, "yaml: ")}
}

// Check loads each path (a file, or a folder searched recursively) with o
// and prints "ok  file" for each good scenario and every problem of each
// bad one, found in one pass (LoadOptions). It returns an error when any
// file fails, for `spine-sandbox check`.
func Check(paths []string, stdout io.Writer, o Options) error {
	failed := 0
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			fmt.Fprintf(stdout, "FAIL %s: %v\n", p, err)
			failed++
			continue
		}
		files := []string{p}
		if info.IsDir() {
			if files, err = scenarioFiles(p); err != nil || len(files) == 0 {
				if err == nil {
					err = errors.New("no *.yaml or *.yml files")
				}
				fmt.Fprintf(stdout, "FAIL %s: %v\n", p, err)
				failed++
				continue
			}
		}
		for _, f := range files {
			sc, err := LoadFileOptions(f, o)
			var le *LoadError
			switch {
			case err == nil:
				fmt.Fprintf(stdout, "ok  %s\n", f)
				for _, w := range sc.Warnings() {
					fmt.Fprintf(stdout, "    warning: %s\n", w)
				}
			case errors.As(err, &le):
				fmt.Fprintf(stdout, "FAIL %s\n", f)
				for _, pr := range le.Problems {
					fmt.Fprintf(stdout, "    %s\n", pr)
				}
				failed++
			default:
				fmt.Fprintf(stdout, "FAIL %s: %v\n", f, err)
				failed++
			}
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d scenario file(s) failed", failed)
	}
	return nil
}
