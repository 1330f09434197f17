package scenario

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestNoPackageState: the package keeps no mutable state (STYLE.md lesson
// 15: clocks and loggers are passed in): no init function, and no
// package-level variable beyond the read-only tables below. A clock or a
// cache added as a variable fails here; pass it in through Options.
func TestNoPackageState(t *testing.T) {
	t.Parallel()
	readOnly := []string{
		"builtinYAML", "builtin", // the embedded built-in world, parsed once on first use (sync.OnceValue)
		"nhsRecords",                                                        // embedded records of NHS's PDS sandbox, when the package has them (read-only)
		"DefaultLimits", "Reasons", "London", "hopInteractions", "weekdays", // tables, never written
		"atType", "nodeDecoderType", "enumType", // reflect types
		"yamlLine", "digits", "odsCode", "reDays", "reNext", "reOffset", "reDateHHM", // compiled regexps
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range file.Decls {
			switch d := decl.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil && d.Name.Name == "init" {
					t.Errorf("%s: an init function; load what it loads on first use instead", fset.Position(d.Pos()))
				}
			case *ast.GenDecl:
				if d.Tok != token.VAR {
					continue
				}
				for _, spec := range d.Specs {
					for _, name := range spec.(*ast.ValueSpec).Names {
						if !slices.Contains(readOnly, name.Name) {
							t.Errorf("%s: package-level variable %s; pass it in (Options) or make it a constant", fset.Position(name.Pos()), name.Name)
						}
					}
				}
			}
		}
	}
}
