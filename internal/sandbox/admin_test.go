package sandbox_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/journal"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
)

// scenarioYAML is a small scenario on the built-in world.
const scenarioYAML = `name: admin test
description: The built-in world, created through the admin API.
extends: builtin
run:
  nhs_number: "9693632109"
`

// TestAdminAPI: every admin route with its status and JSON body.
func TestAdminAPI(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Config{ScenarioDir: "../../scenarios"})
	existing := e.session(t, "")
	tests := []struct {
		name        string
		method, url string
		body        string
		status      int
		wantInBody  string // a fragment the body must contain
		wantProblem bool   // a 422 with problems carrying line and column
	}{
		{"health", "GET", "/_admin/health", "", 200, `"status": "ok"`, false},
		{"list", "GET", "/_admin/sessions", "", 200, `"id": "` + existing.ID + `"`, false},
		{"create from YAML", "POST", "/_admin/sessions", scenarioYAML, 201, `"scenario": "admin test"`, false},
		{"create by name", "POST", "/_admin/sessions", `{"scenario":"happy-path"}`, 201, `"scenario": "happy path"`, false},
		{"create by name with .yaml", "POST", "/_admin/sessions?scenario=happy-path.yaml", "", 201, `"scenario": "happy path"`, false},
		{"create with an id", "POST", "/_admin/sessions", `{"id":"my-session_1"}`, 201, `"id": "my-session_1"`, false},
		{"id taken", "POST", "/_admin/sessions", `{"id":"` + existing.ID + `"}`, 409, `exists`, false},
		{"empty body is the built-in world", "POST", "/_admin/sessions", "", 201, `"scenario": "builtin"`, false},
		{"broken YAML", "POST", "/_admin/sessions", "name: broken\nextends: builtin\nfaults:\n  - hop: nowhere\n    status: many\n", 422, `"problems"`, true},
		{"unknown key", "POST", "/_admin/sessions", "name: x\nextends: builtin\nbogus: 1\n", 422, `bogus`, true},
		{"unknown check name", "POST", "/_admin/sessions", "name: x\nextends: builtin\nexpect:\n  checks: {pass: [JWT_EXP_NOT_IAT_PLUS_300, JWT_EXPIRD]}\n", 422, `unknown check \"JWT_EXPIRD\"`, true},
		{"hostile name", "POST", "/_admin/sessions", `{"scenario":"../../etc/passwd"}`, 400, `a name under the scenario folder is expected`, false},
		{"absolute name", "POST", "/_admin/sessions", `{"scenario":"/etc/passwd"}`, 400, `a name under the scenario folder is expected`, false},
		{"hostile name in query", "POST", "/_admin/sessions?scenario=../scenarios/happy-path", "", 400, `a name under the scenario folder is expected`, false},
		{"missing scenario", "POST", "/_admin/sessions", `{"scenario":"no-such-scenario"}`, 404, `no-such-scenario`, false},
		{"bad id", "POST", "/_admin/sessions", `{"id":"../x"}`, 400, `session id must be`, false},
		{"id too long", "POST", "/_admin/sessions", `{"id":"` + strings.Repeat("a", 65) + `"}`, 400, `session id must be`, false},
		{"bad JSON", "POST", "/_admin/sessions", `{"scenario":`, 400, `JSON body`, false},
		{"get", "GET", "/_admin/sessions/" + existing.ID, "", 200, `"ssp": "` + existing.Base + `/ssp/"`, false},
		{"get unknown", "GET", "/_admin/sessions/ghost", "", 404, `no session \"ghost\"`, false},
		{"delete unknown", "DELETE", "/_admin/sessions/ghost", "", 404, `no session \"ghost\"`, false},
		{"journal", "GET", "/_admin/sessions/" + existing.ID + "/journal", "", 200, `"hops": []`, false},
		{"journal unknown", "GET", "/_admin/sessions/ghost/journal", "", 404, `no session \"ghost\"`, false},
		{"clear journal unknown", "DELETE", "/_admin/sessions/ghost/journal", "", 404, `no session \"ghost\"`, false},
		{"events unknown", "GET", "/_admin/sessions/ghost/events", "", 404, `no session \"ghost\"`, false},
		{"unknown path", "GET", "/_admin/nothing", "", 404, `no admin resource at /_admin/nothing`, false},
		{"bare admin", "GET", "/_admin", "", 404, `no admin resource`, false},
		{"wrong method", "PUT", "/_admin/health", "", 405, `PUT is not allowed on /_admin/health`, false},
		{"wrong method on a session", "POST", "/_admin/sessions/" + existing.ID, "", 405, `POST is not allowed`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, plain(t, tt.method, e.URL+tt.url, tt.body))
			assert.Equal(t, r.status, tt.status, "status: "+r.String())
			if tt.status >= 400 {
				problemOf(t, r)
			} else {
				assert.Equal(t, r.header.Get("Content-Type"), "application/json", "Content-Type")
			}
			var m map[string]any
			if strings.HasPrefix(strings.TrimSpace(string(r.body)), "[") {
				var list []any
				assert.NilError(t, json.Unmarshal(r.body, &list))
			} else if err := json.Unmarshal(r.body, &m); err != nil {
				t.Fatalf("not JSON: %s", r)
			}
			assert.Contains(t, string(r.body), tt.wantInBody, "body")
			if tt.status >= 400 && tt.status != 422 {
				if s, _ := m["detail"].(string); s == "" {
					t.Errorf("no error message: %s", r)
				}
			}
			if tt.wantProblem {
				var b struct {
					Problems []struct {
						Line, Column int
						Message      string
					}
				}
				assert.NilError(t, json.Unmarshal(r.body, &b))
				if len(b.Problems) == 0 {
					t.Fatalf("no problems: %s", r)
				}
				for _, p := range b.Problems {
					if p.Line < 1 || p.Column < 1 || p.Message == "" {
						t.Errorf("problem without line/column/message: %+v", p)
					}
				}
			}
			if tt.status == 201 {
				var info sandbox.SessionInfo
				assert.NilError(t, json.Unmarshal(r.body, &info))
				assert.Equal(t, r.header.Get("Location"), "/_admin/sessions/"+info.ID, "Location")
				if _, ok := e.Server.Session(info.ID); !ok {
					t.Errorf("session %s was not created", info.ID)
				}
				assert.Equal(t, info.URLs.SSP, e.URL+"/s/"+info.ID+"/ssp/", "SSP URL")
			}
		})
	}
}

// TestAdminBrokenYAMLPosition: the problem points at the offending line.
func TestAdminBrokenYAMLPosition(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Config{})
	r := e.do(t, plain(t, "POST", e.URL+"/_admin/sessions", "name: x\nextends: builtin\nlenient: maybe\n"))
	assert.Equal(t, r.status, 422, "status: "+r.String())
	var b struct {
		Detail   string
		Problems []struct {
			Line, Column int
			Message      string
		}
	}
	assert.NilError(t, json.Unmarshal(r.body, &b))
	assert.Contains(t, b.Detail, "the scenario does not load", "detail")
	if len(b.Problems) != 1 {
		t.Fatalf("want one problem, got %+v", b.Problems)
	}
	assert.Equal(t, b.Problems[0].Line, 3, "line")
	assert.Equal(t, b.Problems[0].Column, 10, "column")
}

// TestAdminNamedWithoutFolder: a name needs a scenario folder.
func TestAdminNamedWithoutFolder(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Config{})
	r := e.do(t, plain(t, "POST", e.URL+"/_admin/sessions", `{"scenario":"happy-path"}`))
	assert.Equal(t, r.status, 400, "status")
	assert.Contains(t, string(r.body), "no scenario folder", "body")
}

// TestAdminSessionLifecycle: create, get, journal, delete, then 404; the
// default session is reset, not removed.
func TestAdminSessionLifecycle(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Config{})
	r := e.do(t, plain(t, "POST", e.URL+"/_admin/sessions", `{"id":"life","lenient":true}`))
	assert.Equal(t, r.status, 201, "create: "+r.String())
	var info sandbox.SessionInfo
	assert.NilError(t, json.Unmarshal(r.body, &info))
	assert.Equal(t, info.Lenient, true, "lenient")

	r = e.do(t, pdsGet(t, info.URLs.PDS+"/Patient/"+nhsBooked))
	assert.Equal(t, r.status, 200, "PDS")
	r = e.do(t, plain(t, "GET", e.URL+"/_admin/sessions/life/journal", ""))
	assert.Equal(t, r.status, 200, "journal")
	var j struct {
		Session string
		Dropped int64
		Hops    []journal.View // bodies are JSON values when they are JSON
	}
	assert.NilError(t, json.Unmarshal(r.body, &j))
	assert.Equal(t, j.Session, "life", "journal session")
	assert.DeepEqual(t, hopSummary(hopsOf(j.Hops)), []string{"consumer→pds 1a pds.retrieve 200"}, "journal hops")
	r = e.do(t, plain(t, "GET", e.URL+"/_admin/sessions/life", ""))
	assert.Contains(t, string(r.body), `"hops": 1`, "hop count")

	r = e.do(t, plain(t, "DELETE", e.URL+"/_admin/sessions/life/journal", ""))
	assert.Equal(t, r.status, 204, "clear journal")
	r = e.do(t, plain(t, "GET", e.URL+"/_admin/sessions/life/journal", ""))
	assert.Contains(t, string(r.body), `"hops": []`, "cleared journal")

	r = e.do(t, plain(t, "DELETE", e.URL+"/_admin/sessions/life", ""))
	assert.Equal(t, r.status, 204, "delete")
	assert.Equal(t, len(r.body), 0, "delete body")
	for _, u := range []string{"/_admin/sessions/life", "/_admin/sessions/life/journal"} {
		r = e.do(t, plain(t, "GET", e.URL+u, ""))
		assert.Equal(t, r.status, 404, "after delete: "+u)
	}
	r = e.do(t, plain(t, "DELETE", e.URL+"/_admin/sessions/life", ""))
	assert.Equal(t, r.status, 404, "second delete")
	r = e.do(t, pdsGet(t, info.URLs.PDS+"/Patient/"+nhsBooked))
	assert.Equal(t, r.status, 404, "services of a deleted session")

	// The default session: a delete resets it (fresh world, empty journal).
	def, _ := e.Server.Session(sandbox.DefaultSession)
	slot := freeSlots(def)[0]
	wantStatus(t, e.book(t, def, true, slot), 201, "")
	r = e.do(t, plain(t, "DELETE", e.URL+"/_admin/sessions/default", ""))
	assert.Equal(t, r.status, 204, "delete default")
	fresh, ok := e.Server.Session(sandbox.DefaultSession)
	if !ok {
		t.Fatal("default session gone")
	}
	if fresh == def || slotBooked(fresh, slot.ID) || len(fresh.Journal.Hops()) != 0 {
		t.Errorf("default session was not reset")
	}
}

// TestAdminEvents: the SSE stream delivers a hop made after subscribing.
func TestAdminEvents(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Config{})
	ss := e.session(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", e.URL+"/_admin/sessions/"+ss.ID+"/events", nil)
	assert.NilError(t, err)
	res, err := http.DefaultClient.Do(req)
	assert.NilError(t, err)
	defer res.Body.Close()
	assert.Equal(t, res.StatusCode, 200, "status")
	assert.Equal(t, res.Header.Get("Content-Type"), "text/event-stream", "Content-Type")

	// The headers arrived, so the handler has subscribed: make a hop now.
	r := e.do(t, pdsGet(t, ss.URLs().PDS+"/Patient/"+nhsBooked))
	assert.Equal(t, r.status, 200, "PDS")

	br := bufio.NewReader(res.Body)
	var id, event, data string
	for data == "" {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("stream ended before the hop: %v", err)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case strings.HasPrefix(line, "id: "):
			id = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: ") && event == "hop": // not the request's "start"
			data = strings.TrimPrefix(line, "data: ")
		}
	}
	assert.Equal(t, id, "1", "event id")
	assert.Equal(t, event, "hop", "event type")
	var h journal.View
	assert.NilError(t, json.Unmarshal([]byte(data), &h))
	assert.DeepEqual(t, hopSummary([]journal.Hop{h.Hop}), []string{"consumer→pds 1a pds.retrieve 200"}, "hop")
}
