package runner

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
)

// TestRunTLS: a scenario choosing a client certificate is skipped without
// --tls — neither passed nor failed, and said so in the summary line — and
// over mutual TLS gets Spine's answer to that certificate; a plain
// scenario books over mutual TLS with the consumer's own certificate.
func TestRunTLS(t *testing.T) {
	t.Parallel()
	load := func(yaml string) *scenario.Scenario {
		sc, err := scenario.Load("t.yaml", []byte(yaml))
		assert.NilError(t, err)
		return sc
	}
	revoked := load("name: revoked\nextends: builtin\nrun:\n  action: book\n  nhs_number: \"9693632109\"\n  tls: {client: revoked}\n" +
		"expect:\n  outcome: {error: {hop: pds, status: 495, reason: remote}}\n")
	plain := load("name: plain\nextends: builtin\nrun:\n  action: book\n  nhs_number: \"9693632109\"\nexpect:\n  outcome: booked\n")
	scs := []*scenario.Scenario{revoked, plain}

	res := Run(context.Background(), scs, Options{FixtureDir: "../../fixtures"})
	assert.Equal(t, res[0].Skipped, "run.tls: runs only under spine-sandbox run --tls", "skipped without --tls")
	assert.Equal(t, res[0].Passed, false, "a skipped scenario did not pass")
	assert.Equal(t, res[0].Failed(), false, "a skipped scenario did not fail")
	var out bytes.Buffer
	Print(&out, res, time.Second)
	if !strings.HasSuffix(out.String(), "1 passed, 0 failed, 1 skipped in 1s\n") {
		t.Fatalf("summary = %q, want it to end 1 passed, 0 failed, 1 skipped", out.String())
	}

	res = Run(context.Background(), scs, Options{FixtureDir: "../../fixtures", TLS: true})
	for _, r := range res {
		if !r.Passed {
			t.Errorf("%s over mutual TLS: %s %+v", r.Scenario.Name, r.Outcome, r.Failures)
		}
	}
	if h := res[1].Hops[0]; h.TLS == nil || !strings.Contains(h.TLS.ClientSubject, "CN=a1001.consumer.spine-sandbox.invalid") {
		t.Fatalf("plain scenario's first hop TLS = %+v, want the consumer's certificate", h.TLS)
	}
}
