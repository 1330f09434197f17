package spinesandbox_test

import (
	"bytes"
	"encoding/json"
	"io"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The layering as code (issue 14). Each mock is the single judge of its own
// requests; the sandbox wires them, the conformance judge keeps what no
// single mock sees. So:
//   - no internal/* package imports a mock, except internal/sandbox and its
//     sub-packages, which build the mocks and hand them their hooks;
//   - no mock imports the sandbox, the judge or the runner (the judged does
//     not depend on the judge), nor another mock.
//
// Only the packages' own imports count, not their tests'.
const module = "github.com/spine-sandbox/spine-sandbox"

// layerExceptions are edges the rules forbid that exist for now, each with
// why; remove one when it is gone (the test says so).
var layerExceptions = map[string]string{
	// None: internal/runner serves the LDAP directory through
	// sandbox.Server.ServeLDAP (issue 14).
}

// importEdgeProblem says what is wrong with from importing to, or "".
func importEdgeProblem(from, to string) string {
	under := func(p, dir string) bool { return p == module+"/"+dir || strings.HasPrefix(p, module+"/"+dir+"/") }
	switch {
	case under(to, "mocks") && under(from, "internal") && !under(from, "internal/sandbox"):
		return "an internal package imports a mock: only internal/sandbox wires the mocks"
	case under(from, "mocks") && under(to, "mocks") && !under(to, strings.TrimPrefix(from, module+"/")):
		return "a mock imports another mock"
	case under(from, "mocks") && (under(to, "internal/sandbox") || under(to, "internal/conformance") || under(to, "internal/runner") || under(to, "internal/consumer")):
		return "a mock imports the sandbox, the judge, the runner or the consumer"
	}
	return ""
}

func TestImportLayers(t *testing.T) {
	t.Parallel()
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := exec.LookPath(goTool); err != nil {
		goTool = "go"
	}
	cmd := exec.Command(goTool, "list", "-e", "-json=ImportPath,Imports", "./...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var edges []string
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		for _, imp := range p.Imports {
			if strings.HasPrefix(imp, module+"/") {
				edges = append(edges, p.ImportPath+" -> "+imp)
			}
		}
	}
	if len(edges) == 0 {
		t.Fatal("go list gave no import edges inside the module")
	}
	used := map[string]bool{}
	for _, e := range edges {
		from, to, _ := strings.Cut(e, " -> ")
		problem := importEdgeProblem(from, to)
		if problem == "" {
			continue
		}
		if _, ok := layerExceptions[e]; ok {
			used[e] = true
			continue
		}
		t.Errorf("%s: %s", e, problem)
	}
	for e, why := range layerExceptions {
		if !used[e] {
			t.Errorf("exception %q (%s) no longer needed: remove it from layerExceptions", e, why)
		}
	}
}

// TestImportLayerRules: the rules themselves, on edges that must and must
// not pass.
func TestImportLayerRules(t *testing.T) {
	t.Parallel()
	bad := [][2]string{
		{"internal/conformance", "mocks/provider"},
		{"internal/conformance", "mocks/ssp"},
		{"internal/runner", "mocks/sdsldap"},
		{"internal/jwt", "mocks/pds"},
		{"mocks/provider", "internal/sandbox"},
		{"mocks/ssp", "internal/conformance"},
		{"mocks/ssp", "mocks/provider"},
		{"mocks/sds", "internal/runner"},
	}
	good := [][2]string{
		{"internal/sandbox", "mocks/provider"},
		{"internal/sandbox/sandboxtest", "mocks/ssp"},
		{"internal/conformance", "internal/spinerules"},
		{"mocks/ssp", "internal/spinerules"},
		{"mocks/provider", "internal/jwt"},
		{"cmd/spine-sandbox", "mocks/sdsldap"},
	}
	for _, e := range bad {
		if importEdgeProblem(module+"/"+e[0], module+"/"+e[1]) == "" {
			t.Errorf("%s -> %s passes; it must not", e[0], e[1])
		}
	}
	for _, e := range good {
		if p := importEdgeProblem(module+"/"+e[0], module+"/"+e[1]); p != "" {
			t.Errorf("%s -> %s refused: %s", e[0], e[1], p)
		}
	}
}
