package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"gopkg.in/yaml.v3"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/journal"
	"github.com/spine-sandbox/spine-sandbox/internal/runner"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
)

// The parts of docs/admin-api.yaml the test reads. yaml.v3 (already a
// dependency) is enough: the test checks the document against the router
// and the Go types, which no OpenAPI library does for us.
type openAPI struct {
	OpenAPI    string                                   `yaml:"openapi"`
	Paths      map[string]map[string]yaml.Node          `yaml:"paths"`
	Components struct{ Responses map[string]response3 } `yaml:"components"`
}

type operation struct {
	RequestBody *struct {
		Content map[string]media `yaml:"content"`
	} `yaml:"requestBody"`
	Responses map[string]response3 `yaml:"responses"`
}

type response3 struct {
	Ref     string           `yaml:"$ref"`
	Content map[string]media `yaml:"content"`
}

type media struct {
	Example yaml.Node `yaml:"example"`
	GoType  string    `yaml:"x-go-type"`
}

var httpMethods = []string{"get", "put", "post", "delete", "patch", "head", "options"}

func loadOpenAPI(t *testing.T) (openAPI, map[string]map[string]operation) {
	t.Helper()
	data, err := os.ReadFile("../../docs/admin-api.yaml")
	assert.NilError(t, err)
	var doc openAPI
	assert.NilError(t, yaml.Unmarshal(data, &doc))
	ops := map[string]map[string]operation{}
	for path, item := range doc.Paths {
		ops[path] = map[string]operation{}
		for m, n := range item {
			if !slices.Contains(httpMethods, m) {
				continue // parameters, summary
			}
			var op operation
			assert.NilError(t, n.Decode(&op))
			ops[path][m] = op
		}
	}
	return doc, ops
}

// goTypes are the types x-go-type names: what the handlers write and read.
var goTypes = map[string]reflect.Type{
	"Health":         reflect.TypeFor[sandbox.Health](),
	"ScenarioFile":   reflect.TypeFor[sandbox.ScenarioFile](),
	"[]ScenarioFile": reflect.TypeFor[[]sandbox.ScenarioFile](),
	"SessionInfo":    reflect.TypeFor[sandbox.SessionInfo](),
	"[]SessionInfo":  reflect.TypeFor[[]sandbox.SessionInfo](),
	"SessionRequest": reflect.TypeFor[sandbox.SessionRequest](),
	"Problem":        reflect.TypeFor[sandbox.Problem](),
	"RunStarted":     reflect.TypeFor[sandbox.RunStarted](),
	"Faults":         reflect.TypeFor[sandbox.Faults](),
	"Verdict":        reflect.TypeFor[runner.VerdictJSON](),
	"JournalPage":    reflect.TypeFor[apiJournalPage](),
}

// apiJournalPage is GET …/journal's answer (streamed by the handler, so it
// has no Go type of its own).
type apiJournalPage struct {
	Session string         `json:"session"`
	Dropped int64          `json:"dropped"`
	Next    *int64         `json:"next"`
	Hops    []journal.View `json:"hops"`
}

// TestOpenAPIMatchesRouter: every route of the admin router is in
// docs/admin-api.yaml with its method, and every documented route and
// method is one the router has.
func TestOpenAPIMatchesRouter(t *testing.T) {
	t.Parallel()
	doc, ops := loadOpenAPI(t)
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Errorf("openapi = %q, want 3.1.x", doc.OpenAPI)
	}
	srv, err := sandbox.New(sandbox.Config{PublicURL: "http://127.0.0.1:1"})
	assert.NilError(t, err)
	t.Cleanup(func() { srv.Close() })
	routed := map[string]bool{}
	err = sandbox.AdminRouter(srv).Walk(func(r *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		path, err := r.GetPathTemplate()
		if err != nil {
			return err
		}
		methods, err := r.GetMethods()
		if err != nil {
			return fmt.Errorf("%s: %v", path, err)
		}
		for _, m := range methods {
			routed[strings.ToLower(m)+" "+path] = true
			if _, ok := ops[path][strings.ToLower(m)]; !ok {
				t.Errorf("%s %s is routed but not in docs/admin-api.yaml", m, path)
			}
		}
		return nil
	})
	assert.NilError(t, err)
	for path, byMethod := range ops {
		for m := range byMethod {
			if !routed[m+" "+path] {
				t.Errorf("%s %s is in docs/admin-api.yaml but not routed", strings.ToUpper(m), path)
			}
		}
	}
}

// TestOpenAPIRoutesAnswer: every documented route and method, called on a
// live sandbox with its documented example body (or none), is answered by
// its handler: neither the router's 404 nor its 405, and a status the
// document lists for it.
func TestOpenAPIRoutesAnswer(t *testing.T) {
	t.Parallel()
	_, ops := loadOpenAPI(t)
	run := func(ctx context.Context, _ *sandbox.Session) error { return nil }
	verdict := func(ss *sandbox.Session) any {
		return runner.VerdictJSON{Session: ss.ID, Status: runner.VerdictPending}
	}
	e := start(t, sandbox.Config{ScenarioDir: "../../scenarios", Run: run, Verdict: verdict})
	paths := make([]string, 0, len(ops))
	for p := range ops {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, path := range paths {
		for m, op := range ops[path] {
			// A session of its own for each call: DELETE and PUT change it.
			ss := e.session(t, scenarioYAML)
			url := e.URL + strings.ReplaceAll(path, "{id}", ss.ID)
			body, ctype := "", ""
			if op.RequestBody != nil {
				if mt, ok := op.RequestBody.Content["application/json"]; ok && mt.Example.Kind != 0 {
					var v any
					assert.NilError(t, mt.Example.Decode(&v))
					b, _ := json.Marshal(v)
					body, ctype = string(b), "application/json"
				}
			}
			req := plain(t, strings.ToUpper(m), url, body)
			if ctype != "" {
				req.Header.Set("Content-Type", ctype)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			req = req.WithContext(ctx)
			res, err := e.client.Do(req) // headers only: events streams
			if err != nil {
				cancel()
				t.Fatalf("%s %s: %v", m, path, err)
			}
			res.Body.Close()
			cancel()
			status := fmt.Sprint(res.StatusCode)
			if _, ok := op.Responses[status]; !ok {
				t.Errorf("%s %s answered %s, which docs/admin-api.yaml does not list", strings.ToUpper(m), path, status)
			}
			if res.StatusCode == 404 || res.StatusCode == 405 {
				t.Errorf("%s %s answered %d: not routed to its handler", strings.ToUpper(m), path, res.StatusCode)
			}
		}
	}
}

// TestOpenAPIExamples: every example in docs/admin-api.yaml decodes into the
// Go type it names (unknown fields refused), YAML and fault examples load
// through the scenario loader, and every JSON answer and problem names a
// type.
func TestOpenAPIExamples(t *testing.T) {
	t.Parallel()
	doc, ops := loadOpenAPI(t)
	check := func(where, ctype string, mt media) {
		if mt.Example.Kind == 0 {
			return
		}
		var v any
		assert.NilError(t, mt.Example.Decode(&v))
		data, err := json.Marshal(v)
		assert.NilError(t, err)
		switch {
		case mt.GoType == "[]Fault":
			_, err := scenario.LoadFaults("example", data)
			assert.NilError(t, err)
		case ctype == "application/yaml" && strings.Contains(where, "/faults"):
			_, err := scenario.LoadFaults("example", []byte(v.(string)))
			assert.NilError(t, err)
		case ctype == "application/yaml":
			_, err := scenario.Load("example", []byte(v.(string)))
			assert.NilError(t, err)
		default:
			typ, ok := goTypes[mt.GoType]
			if !ok {
				t.Errorf("%s: x-go-type %q is not a known type", where, mt.GoType)
				return
			}
			dec := json.NewDecoder(bytes.NewReader(data))
			dec.DisallowUnknownFields()
			if err := dec.Decode(reflect.New(typ).Interface()); err != nil {
				t.Errorf("%s: the example does not decode into %s: %v", where, mt.GoType, err)
			}
		}
	}
	for name, r := range doc.Components.Responses {
		for ctype, mt := range r.Content {
			if mt.GoType == "" {
				t.Errorf("components.responses.%s %s: no x-go-type", name, ctype)
			}
			check("components.responses."+name, ctype, mt)
		}
	}
	for path, byMethod := range ops {
		for m, op := range byMethod {
			where := strings.ToUpper(m) + " " + path
			if op.RequestBody != nil {
				for ctype, mt := range op.RequestBody.Content {
					check(where+" request", ctype, mt)
				}
			}
			for status, r := range op.Responses {
				for ctype, mt := range r.Content {
					if strings.Contains(ctype, "json") && mt.GoType == "" {
						t.Errorf("%s %s %s: no x-go-type", where, status, ctype)
					}
					check(where+" "+status, ctype, mt)
				}
			}
		}
	}
}
