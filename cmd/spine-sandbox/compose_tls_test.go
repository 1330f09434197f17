package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
)

// TestComposeTLS lints docker-compose.tls.yml without a Docker engine: it
// parses it, checks the services share the PKI volume and wait for each
// other, then runs its commands here with the volume's path mapped to a
// temporary folder — certs writes the PKI, serve --tls starts with it and
// the healthcheck's health --ca finds it healthy — and checks the consumer
// presents files certs wrote.
func TestComposeTLS(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../docker-compose.tls.yml")
	assert.NilError(t, err)
	type service struct {
		Command    []string `yaml:"command"`
		Entrypoint []string `yaml:"entrypoint"`
		Volumes    []string `yaml:"volumes"`
		Restart    *string  `yaml:"restart"`
		DependsOn  map[string]struct {
			Condition string `yaml:"condition"`
		} `yaml:"depends_on"`
		Healthcheck *struct {
			Test []string `yaml:"test"`
		} `yaml:"healthcheck"`
	}
	var c struct {
		Services map[string]service `yaml:"services"`
		Volumes  map[string]any     `yaml:"volumes"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	assert.NilError(t, dec.Decode(&c))
	certs, spine, consumer := c.Services["certs"], c.Services["spine"], c.Services["consumer"]
	if _, ok := c.Volumes["pki"]; !ok {
		t.Fatal("no pki volume")
	}
	for name, s := range map[string]service{"certs": certs, "spine": spine, "consumer": consumer} {
		if len(s.Volumes) != 1 || !strings.HasPrefix(s.Volumes[0], "pki:/home/nonroot") {
			t.Errorf("%s volumes %q, want the pki volume on /home/nonroot", name, s.Volumes)
		}
	}
	assert.Equal(t, spine.DependsOn["certs"].Condition, "service_completed_successfully", "spine waits for the PKI")
	assert.Equal(t, consumer.DependsOn["spine"].Condition, "service_healthy", "the consumer waits for a healthy sandbox")
	if certs.Restart == nil || *certs.Restart != "no" || consumer.Restart == nil || *consumer.Restart != "no" {
		t.Error("the one-shots must have restart: \"no\"")
	}

	tmp := t.TempDir()
	mapPath := func(args []string) []string {
		out := make([]string, len(args))
		for i, a := range args {
			out[i] = strings.ReplaceAll(a, "/home/nonroot", tmp)
		}
		return out
	}
	assert.DeepEqual(t, certs.Entrypoint, []string{"spine-sandbox"}, "certs entrypoint")
	var out, errb bytes.Buffer
	assert.Equal(t, Main(mapPath(certs.Command), noenv, &out, &errb), 0, "certs: "+errb.String())

	checkServeArgs(t, "spine's command", spine.Command)
	args := mapPath(spine.Command[1:])
	for i, a := range args {
		switch a {
		case "0.0.0.0:4000", "0.0.0.0:4389":
			args[i] = "127.0.0.1:0"
		}
	}
	sv := startServe(t, noenv, args...)
	if spine.Healthcheck == nil || len(spine.Healthcheck.Test) < 3 || spine.Healthcheck.Test[1] != "spine-sandbox" {
		t.Fatalf("spine healthcheck %+v", spine.Healthcheck)
	}
	health := mapPath(spine.Healthcheck.Test[2:])
	for i, a := range health {
		health[i] = strings.Replace(a, "https://127.0.0.1:4000", "https://"+sv.addr, 1)
	}
	out.Reset()
	errb.Reset()
	assert.Equal(t, Main(health, noenv, &out, &errb), 0, "healthcheck: "+errb.String())

	for _, a := range consumer.Command {
		for _, flag := range []string{"--cert=", "--key=", "--ca="} {
			if f, ok := strings.CutPrefix(a, flag); ok {
				if _, err := os.Stat(filepath.Clean(strings.ReplaceAll(f, "/home/nonroot", tmp))); err != nil {
					t.Errorf("consumer %s: certs wrote no such file", a)
				}
			}
		}
		if strings.Contains(a, "://") && !strings.Contains(a, "https://spine:4000/") {
			t.Errorf("consumer flag %s does not reach the spine service over https", a)
		}
	}
	assert.Equal(t, sv.exit(t), 0, "serve exit code")
}
