package sandbox_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
)

// TestAdminSessionsShareWorlds: sessions the admin API creates from the
// same scenario — POSTed as YAML, or named in the scenario folder — start
// from one world; a file changed on disk is read anew, and its sessions
// see the change. Red when the parsed scenarios are keyed by name alone.
func TestAdminSessionsShareWorlds(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "mine.yaml")
	write := func(name string) {
		t.Helper()
		assert.NilError(t, os.WriteFile(file, []byte("name: "+name+"\nextends: builtin\n"), 0o644))
	}
	write("first")
	e := start(t, sandbox.Config{ScenarioDir: dir})
	create := func(body string) *sandbox.Session {
		t.Helper()
		r := e.do(t, plain(t, "POST", e.URL+"/_admin/sessions", body))
		if r.status != 201 {
			t.Fatalf("create: %s", r)
		}
		var info sandbox.SessionInfo
		assert.NilError(t, json.Unmarshal(r.body, &info))
		ss, ok := e.Server.Session(info.ID)
		if !ok {
			t.Fatalf("no session %s", info.ID)
		}
		return ss
	}
	yaml := "name: posted\nextends: builtin\n"
	a, b := create(yaml), create(yaml)
	assert.Equal(t, a.World.Template() == b.World.Template(), true, "one world for one POSTed scenario")
	c, d := create(`{"scenario":"mine"}`), create(`{"scenario":"mine"}`)
	assert.Equal(t, c.World.Template() == d.World.Template(), true, "one world for one named scenario")
	assert.Equal(t, c.Scenario.Name, "first", "name")
	write("second")
	f := create(`{"scenario":"mine"}`)
	assert.Equal(t, f.Scenario.Name, "second", "the file as changed")
	assert.Equal(t, f.World.Template() == c.World.Template(), false, "a changed file's world")
}
