// Package tcexample starts the spine-sandbox image with testcontainers-go,
// waits for its health check, creates a session for a scenario, books
// through the session's URLs and reads the sandbox's verdict. It needs a
// Docker engine and the image (docker build -t spine-sandbox:dev . in the
// repository, or SPINE_SANDBOX_IMAGE); without a Docker engine it skips.
package tcexample

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"
)

const token = "testcontainers-go-example-token"

// The scenario the session runs: the built-in world; the booking must
// succeed.
const scenario = `
name: booked from a container test
extends: builtin
run: {consumer: external}
expect:
  outcome: booked
`

func TestBookAgainstTheImage(t *testing.T) {
	ctx := context.Background()
	p, err := testcontainers.NewDockerProvider()
	if err == nil {
		defer p.Close()
		err = p.Health(ctx)
	}
	if err != nil {
		t.Skipf("no Docker engine: %v", err)
	}
	image := os.Getenv("SPINE_SANDBOX_IMAGE")
	if image == "" {
		image = "spine-sandbox:dev"
	}
	c, err := testcontainers.GenericContainer(ctx, testcontainers.GenericContainerRequest{
		ContainerRequest: testcontainers.ContainerRequest{
			Image:        image,
			ExposedPorts: []string{"4000/tcp"},
			Env:          map[string]string{"SPINE_SANDBOX_ADMIN_TOKEN": token},
			// The image's HEALTHCHECK runs spine-sandbox health.
			WaitingFor: wait.ForHealthCheck().WithStartupTimeout(time.Minute),
		},
		Started: true,
	})
	testcontainers.CleanupContainer(t, c)
	if err != nil {
		t.Fatal(err)
	}
	endpoint, err := c.PortEndpoint(ctx, "4000/tcp", "http")
	if err != nil {
		t.Fatal(err)
	}

	// A session; its URLs are on endpoint, the random port Docker mapped,
	// since the sandbox builds them on the address it is asked on.
	var session struct {
		ID   string            `json:"id"`
		URLs map[string]string `json:"urls"`
	}
	admin(t, "POST", endpoint+"/_admin/sessions", scenario, &session)
	if !strings.HasPrefix(session.URLs["ssp"], endpoint+"/") {
		t.Fatalf("session URLs %v are not on %s", session.URLs, endpoint)
	}

	// The consumer under test books through them; here the repository's
	// gpc-consumer stands in for it (a tool directive in go.mod).
	cmd := exec.CommandContext(ctx, "go", "tool", "gpc-consumer", "book",
		"--pds", session.URLs["pds"], "--sds", session.URLs["sds"], "--ssp", session.URLs["ssp"], "--nhs-number", "9693632109")
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("gpc-consumer: %v", err)
	}

	var verdict struct {
		Passed   bool              `json:"passed"`
		Outcome  string            `json:"outcome"`
		Failures []json.RawMessage `json:"failures"`
	}
	admin(t, "GET", endpoint+"/_admin/sessions/"+session.ID+"/verdict", "", &verdict)
	if !verdict.Passed {
		t.Fatalf("verdict: outcome %s, failures %s", verdict.Outcome, verdict.Failures)
	}
}

// admin calls the admin API with the token and decodes the answer.
func admin(t *testing.T, method, url, yaml string, v any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(yaml))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if yaml != "" {
		req.Header.Set("Content-Type", "application/yaml")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode >= 300 {
		t.Fatalf("%s %s: %s", method, url, res.Status)
	}
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatal(fmt.Errorf("%s %s: %w", method, url, err))
	}
}
