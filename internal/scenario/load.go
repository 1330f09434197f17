// Package scenario reads scenario files: the YAML that names a world
// (consumer system, PDS patients, practices with their SDS entries and
// provider records, schedules and slots), faults to inject per hop, what the
// built-in consumer should do and what must be seen. Everything is parsed
// and checked at load time (STYLE.md lesson 12) and every mistake in a file
// is reported with its file:line:column, so request handling and the runner
// only look things up. Relative dates ("+1d 09:00", "next monday") resolve
// in Europe/London when a session starts, so files never go stale.
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

// loadClock is the time against which relative dates are ordered at load
// when a scenario does not pin its clock ("end after start" and the like).
var loadClock = time.Now

// Load parses and validates one scenario. file names it in problems and in
// Scenario.File. Every mistake is reported, as a *LoadError.
func Load(file string, data []byte) (*Scenario, error) {
	return LoadWith(file, data, DefaultLimits)
}

// LoadFile loads the scenario at path.
func LoadFile(path string) (*Scenario, error) {
	return LoadFileWith(path, DefaultLimits)
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

func load(file string, data []byte, lim Limits) (*Scenario, []Problem) {
	d := &decoder{file: file}
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
	s := &Scenario{limits: lim}
	d.budget = countNodes(root) + aliasBudget
	d.decode(root, reflectValue(s), "scenario", nil)
	s.File = file
	if len(d.problems) == 0 {
		// Cross references only make sense once every value decoded.
		d.validate(s)
	}
	if !d.overBudget {
		// Counted on the decoded values, where every alias is a copy.
		d.problems = append(d.problems, slotProblems(s, lim)...)
	}
	slices.SortStableFunc(d.problems, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
	return s, d.problems
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

// Check loads each path (a file, or a folder searched recursively) and
// prints "ok  file" for each good scenario and its problems for each bad
// one. It returns an error when any file fails, for `spine-sandbox check`.
// Each of more, when given, finds further problems in a scenario that
// loaded (checks this package cannot make, such as conformance check
// names).
func Check(paths []string, stdout io.Writer, more ...func(*Scenario) []Problem) error {
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
			sc, err := LoadFile(f)
			if err == nil {
				var extra []Problem
				for _, m := range more {
					extra = append(extra, m(sc)...)
				}
				if len(extra) > 0 {
					err = &LoadError{Problems: extra}
				}
			}
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
