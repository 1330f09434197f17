package scenario

import (
	"bytes"
	"errors"
	"io"

	"gopkg.in/yaml.v3"
)

// LoadFaults reads a list of faults written as a scenario's faults: would
// be (YAML, or JSON, which is YAML), through the same decoder and the same
// checks, for faults added to a live session (POST
// /_admin/sessions/{id}/faults). A single fault (a mapping) is a list of
// one; {faults: [...]} is accepted too, so a scenario's section can be
// pasted as it is. Problems are a *LoadError at file's line and column.
func LoadFaults(file string, data []byte) ([]Fault, error) {
	d := &decoder{file: file}
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &LoadError{Problems: []Problem{{file, 1, 1, "no faults: send a list of faults, as a scenario's faults: holds"}}}
		}
		return nil, &LoadError{Problems: []Problem{syntaxProblem(file, data, err)}}
	}
	root := resolve(doc.Content[0])
	if root.Kind == yaml.MappingNode && len(root.Content) == 2 && root.Content[0].Value == "faults" {
		root = resolve(root.Content[1])
	}
	if root.Kind == yaml.MappingNode {
		root = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Line: root.Line, Column: root.Column, Content: []*yaml.Node{root}}
	}
	d.budget = countNodes(root) + aliasBudget
	var out []Fault
	d.decode(root, reflectValue(&out), "faults", nil)
	if !d.overBudget {
		// One pass, as a scenario's: the checks that span a fault's keys
		// run on the faults whose keys decoded.
		for i := range out {
			d.validateFault(&out[i])
		}
	}
	if len(d.problems) > 0 {
		SortProblems(d.problems)
		return nil, &LoadError{Problems: d.problems}
	}
	return out, nil
}
