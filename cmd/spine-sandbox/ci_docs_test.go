package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
)

// The CI recipes in docs/ci cannot run here: they are parsed, held to the
// keys GitHub Actions and GitLab CI require, and every spine-sandbox
// command in them must use flags the command has.

func readYAML(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../../docs/ci", name))
	assert.NilError(t, err)
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return doc
}

// commandFlags returns the flags `spine-sandbox CMD -h` lists (on stdout).
func commandFlags(t *testing.T, cmd string) []string {
	t.Helper()
	var out, errb bytes.Buffer
	code := mainContext(context.Background(), []string{cmd, "-h"}, noenv, &out, &errb, nil)
	assert.Equal(t, code, 0, cmd+" -h")
	var flags []string
	for _, m := range regexp.MustCompile(`(?m)^\s+--?([a-z][a-z-]*)`).FindAllStringSubmatch(out.String(), -1) {
		flags = append(flags, m[1])
	}
	return flags
}

var sandboxCommand = regexp.MustCompile(`spine-sandbox(?:@\S+)? (run|check|health|serve)((?: +[^ \n|;>&"]+)*)`)

// checkCommands fails the test for a spine-sandbox command line in text
// with a flag its command does not have; it returns how many it saw.
func checkCommands(t *testing.T, name, text string) int {
	t.Helper()
	n := 0
	for _, m := range sandboxCommand.FindAllStringSubmatch(text, -1) {
		n++
		flags := commandFlags(t, m[1])
		for _, a := range strings.Fields(m[2]) {
			if f, ok := strings.CutPrefix(a, "-"); ok {
				f = strings.TrimPrefix(f, "-")
				f, _, _ = strings.Cut(f, "=")
				if !slices.Contains(flags, f) {
					t.Errorf("%s: spine-sandbox %s has no flag -%s (%s)", name, m[1], f, strings.TrimSpace(m[0]))
				}
			}
		}
	}
	return n
}

func asMap(t *testing.T, v any, what string) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s is not a mapping: %#v", what, v)
	}
	return m
}

func TestGithubWorkflows(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"github-workflow.yml", "github-consumer.yml"} {
		doc := readYAML(t, name)
		b, _ := os.ReadFile(filepath.Join("../../docs/ci", name))
		for _, key := range []string{"name", "on", "jobs"} {
			if _, ok := doc[key]; !ok {
				t.Errorf("%s: no %q", name, key)
			}
		}
		uploads := 0
		for id, j := range asMap(t, doc["jobs"], name+" jobs") {
			job := asMap(t, j, name+" job "+id)
			if _, ok := job["runs-on"]; !ok {
				t.Errorf("%s: job %s has no runs-on", name, id)
			}
			steps, ok := job["steps"].([]any)
			if !ok || len(steps) == 0 {
				t.Fatalf("%s: job %s has no steps", name, id)
			}
			for i, s := range steps {
				step := asMap(t, s, name+" step")
				uses, hasUses := step["uses"].(string)
				_, hasRun := step["run"].(string)
				if hasUses == hasRun {
					t.Errorf("%s: job %s step %d needs exactly one of uses and run", name, id, i)
				}
				if hasUses && !regexp.MustCompile(`^[\w.-]+/[\w.-]+@v\d+$`).MatchString(uses) {
					t.Errorf("%s: step uses %q, not owner/action@vN", name, uses)
				}
				if uses == "actions/upload-artifact@v4" {
					uploads++
					assert.Equal(t, step["if"], any("always()"), name+": the report is kept when the run fails")
				}
			}
			if svc, ok := job["services"]; ok {
				for sid, s := range asMap(t, svc, name+" services") {
					opts, _ := asMap(t, s, "service "+sid)["options"].(string)
					assert.Contains(t, opts, `--health-cmd "spine-sandbox health`, name+": service "+sid+" is waited on")
				}
			}
		}
		if name == "github-workflow.yml" {
			assert.Equal(t, uploads, 1, name+": JUnit upload")
			assert.Contains(t, string(b), `--markdown "$GITHUB_STEP_SUMMARY"`, name+": job summary")
			assert.Contains(t, string(b), "--format github", name+": annotations")
			assert.Contains(t, string(b), "--junit", name+": JUnit")
		}
		if checkCommands(t, name, string(b)) == 0 && name == "github-workflow.yml" {
			t.Errorf("%s runs no spine-sandbox command", name)
		}
	}
}

func TestGitlabJobs(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"gitlab-ci.yml", "gitlab-consumer.yml"} {
		doc := readYAML(t, name)
		b, _ := os.ReadFile(filepath.Join("../../docs/ci", name))
		stages, _ := doc["stages"].([]any)
		jobs := 0
		for id, v := range doc {
			if id == "stages" || id == "variables" || id == "default" {
				continue
			}
			job := asMap(t, v, name+" job "+id)
			jobs++
			if s, ok := job["script"].([]any); !ok || len(s) == 0 {
				t.Errorf("%s: job %s has no script", name, id)
			}
			if !slices.Contains(stages, job["stage"]) {
				t.Errorf("%s: job %s's stage %v is not in stages %v", name, id, job["stage"], stages)
			}
			if name == "gitlab-ci.yml" {
				art := asMap(t, job["artifacts"], id+" artifacts")
				assert.Equal(t, art["when"], any("always"), name+": artifacts kept on failure")
				if asMap(t, art["reports"], id+" reports")["junit"] == nil {
					t.Errorf("%s: job %s has no JUnit report", name, id)
				}
			}
			if svcs, ok := job["services"].([]any); ok {
				for _, s := range svcs {
					assert.Equal(t, asMap(t, s, "service")["alias"], any("spine"), name+": the service's host name")
				}
				assert.Contains(t, string(b), "spine-sandbox health --url", name+": waits for the sandbox")
			}
		}
		assert.Equal(t, jobs, 1, name+": jobs")
		if checkCommands(t, name, string(b)) == 0 {
			t.Errorf("%s runs no spine-sandbox command", name)
		}
	}
}
