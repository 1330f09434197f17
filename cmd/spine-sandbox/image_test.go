package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
)

// No Docker engine runs where the tests do, so the image is checked by
// hand: the Dockerfile and docker-compose.yml are parsed and held to what
// the README promises, and the Dockerfile's go build lines are run.

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd, args string
	stage     int // 0 for the first FROM's stage
}

func readDockerfile(t *testing.T) []instruction {
	t.Helper()
	b, err := os.ReadFile("../../Dockerfile")
	assert.NilError(t, err)
	var out []instruction
	stage, cur := -1, ""
	for _, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		if cur == "" && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur += strings.TrimSuffix(trimmed, "\\") + " "
			continue
		}
		cur += trimmed
		cmd, args, _ := strings.Cut(cur, " ")
		cmd = strings.ToUpper(cmd)
		if cmd == "FROM" {
			stage++
		}
		out = append(out, instruction{cmd: cmd, args: strings.TrimSpace(args), stage: stage})
		cur = ""
	}
	return out
}

// execForm reads a JSON exec-form argument list (["a", "b"]).
func execForm(t *testing.T, what, s string) []string {
	t.Helper()
	var out []string
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		t.Fatalf("%s %q is not in exec form: %v", what, s, err)
	}
	return out
}

// serveFlags returns the flags `serve -h` lists (on stdout).
func serveFlags(t *testing.T) []string {
	t.Helper()
	var out, errb bytes.Buffer
	code := mainContext(context.Background(), []string{"serve", "-h"}, noenv, &out, &errb, nil)
	assert.Equal(t, code, 0, "serve -h")
	var flags []string
	for _, m := range regexp.MustCompile(`(?m)^\s+--?([a-z][a-z-]*)`).FindAllStringSubmatch(out.String(), -1) {
		flags = append(flags, m[1])
	}
	if !slices.Contains(flags, "addr") {
		t.Fatalf("serve -h lists no --addr: %s", out.String())
	}
	return flags
}

// checkServeArgs fails the test for a flag serve does not have.
func checkServeArgs(t *testing.T, what string, args []string) {
	t.Helper()
	if len(args) == 0 || args[0] != "serve" {
		t.Fatalf("%s runs %q, not serve", what, args)
	}
	flags := serveFlags(t)
	for _, a := range args[1:] {
		if name, ok := strings.CutPrefix(a, "--"); ok {
			name, _, _ = strings.Cut(name, "=")
			if !slices.Contains(flags, name) {
				t.Errorf("%s passes --%s, which serve does not have", what, name)
			}
		}
	}
}

func TestDockerfile(t *testing.T) {
	t.Parallel()
	ins := readDockerfile(t)
	last := ins[len(ins)-1].stage
	final := map[string][]string{}
	for _, in := range ins {
		if in.stage == last {
			final[in.cmd] = append(final[in.cmd], in.args)
		}
	}
	// A non-root user, as the last word.
	users := final["USER"]
	if len(users) == 0 {
		t.Fatal("the image runs as root: no USER in the final stage")
	}
	if u, _, _ := strings.Cut(users[len(users)-1], ":"); u == "root" || u == "0" {
		t.Errorf("USER %s is root", users[len(users)-1])
	}
	// The health check runs the binary's own health command.
	if len(final["HEALTHCHECK"]) != 1 {
		t.Fatalf("HEALTHCHECK: %q", final["HEALTHCHECK"])
	}
	hc := final["HEALTHCHECK"][0]
	_, cmd, ok := strings.Cut(hc, "CMD ")
	if !ok {
		t.Fatalf("HEALTHCHECK %q has no CMD", hc)
	}
	assert.DeepEqual(t, execForm(t, "HEALTHCHECK", cmd)[:2], []string{"spine-sandbox", "health"}, "HEALTHCHECK command")
	// The entry point and its default command's flags exist.
	assert.DeepEqual(t, execForm(t, "ENTRYPOINT", final["ENTRYPOINT"][0]), []string{"spine-sandbox"}, "ENTRYPOINT")
	checkServeArgs(t, "CMD", execForm(t, "CMD", final["CMD"][0]))
	// The scenarios and fixtures serve finds by default (WORKDIR /app).
	copies := strings.Join(final["COPY"], "\n")
	for _, want := range []string{"scenarios/ /app/scenarios/", "fixtures/ /app/fixtures/"} {
		assert.Contains(t, copies, want, "COPY")
	}
	assert.Equal(t, final["WORKDIR"][0], "/app", "WORKDIR")
	labels := strings.Join(final["LABEL"], " ")
	for _, want := range []string{"org.opencontainers.image.title=", "org.opencontainers.image.source=", "org.opencontainers.image.description="} {
		assert.Contains(t, labels, want, "OCI labels")
	}
}

// TestDockerfileBuilds runs the build stage's go build lines as written
// (outputs redirected to a temporary folder).
func TestDockerfileBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binaries")
	}
	t.Parallel()
	out := t.TempDir()
	n := 0
	for _, in := range readDockerfile(t) {
		if in.stage != 0 || in.cmd != "RUN" || !strings.Contains(in.args, "go build") {
			continue
		}
		for _, step := range strings.Split(in.args, "&&") {
			fields := strings.Fields(step)
			var env []string
			for len(fields) > 0 && strings.Contains(fields[0], "=") {
				env, fields = append(env, fields[0]), fields[1:]
			}
			if len(fields) < 2 || fields[0] != "go" || fields[1] != "build" {
				t.Fatalf("unexpected build step %q", step)
			}
			for i, f := range fields {
				if f == "-o" && i+1 < len(fields) {
					fields[i+1] = filepath.Join(out, filepath.Base(fields[i+1]))
				}
			}
			cmd := exec.Command("go", fields[1:]...)
			cmd.Dir = "../.."
			cmd.Env = append(os.Environ(), env...)
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s", step, err, b)
			}
			n++
		}
	}
	assert.Equal(t, n, 2, "go build steps")
	for _, bin := range []string{"spine-sandbox", "gpc-consumer"} {
		if _, err := os.Stat(filepath.Join(out, bin)); err != nil {
			t.Errorf("%s was not built: %v", bin, err)
		}
	}
}

func TestDockerignore(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../.dockerignore")
	assert.NilError(t, err)
	var rules []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			rules = append(rules, l)
		}
	}
	for _, want := range []string{".git", "node_modules", "tools/*/node_modules"} {
		if !slices.Contains(rules, want) {
			t.Errorf(".dockerignore does not exclude %s", want)
		}
	}
	for _, r := range rules {
		for _, needed := range []string{"scenarios", "fixtures", "cmd", "internal", "mocks", "go.mod", "go.sum"} {
			if m, _ := filepath.Match(strings.TrimPrefix(r, "/"), needed); m || strings.TrimPrefix(r, "/") == needed {
				t.Errorf(".dockerignore rule %q excludes %s, which the build needs", r, needed)
			}
		}
	}
}

func TestCompose(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../docker-compose.yml")
	assert.NilError(t, err)
	var c struct {
		Services map[string]struct {
			Build       any               `yaml:"build"`
			Image       string            `yaml:"image"`
			Command     []string          `yaml:"command"`
			Entrypoint  []string          `yaml:"entrypoint"`
			Environment map[string]string `yaml:"environment"`
			Restart     *string           `yaml:"restart"`
			DependsOn   map[string]struct {
				Condition string `yaml:"condition"`
			} `yaml:"depends_on"`
			Healthcheck *struct {
				Test []string `yaml:"test"`
			} `yaml:"healthcheck"`
		} `yaml:"services"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	assert.NilError(t, dec.Decode(&c))
	spine, ok := c.Services["spine"]
	if !ok {
		t.Fatal("no spine service")
	}
	checkServeArgs(t, "spine's command", spine.Command)
	if spine.Healthcheck == nil || !slices.Contains(spine.Healthcheck.Test, "spine-sandbox") || !slices.Contains(spine.Healthcheck.Test, "health") {
		t.Errorf("spine's healthcheck: %+v", spine.Healthcheck)
	}
	assert.Contains(t, spine.Environment["SPINE_SANDBOX_ADMIN_TOKEN"], ":?", "the admin token is required")
	consumer, ok := c.Services["consumer"]
	if !ok {
		t.Fatal("no consumer service")
	}
	assert.Equal(t, consumer.DependsOn["spine"].Condition, "service_healthy", "the consumer waits for a healthy sandbox")
	// A one-shot must not restart: a refused booking exits 1, and
	// on-failure would repeat it for ever.
	if consumer.Restart == nil || *consumer.Restart != "no" {
		t.Errorf("consumer restart: want \"no\"")
	}
	for name, s := range c.Services {
		if s.Restart != nil && strings.HasPrefix(*s.Restart, "on-failure") && len(s.Entrypoint) > 0 && s.Entrypoint[0] == "gpc-consumer" {
			t.Errorf("%s: restart %s on a one-shot", name, *s.Restart)
		}
	}
	for _, a := range consumer.Command {
		if strings.HasPrefix(a, "--") && strings.Contains(a, "://") && !strings.Contains(a, "://spine:4000/") {
			t.Errorf("consumer flag %s does not reach the spine service", a)
		}
	}
}
