package spinesandbox_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	spinesandbox "github.com/spine-sandbox/spine-sandbox"
	"github.com/spine-sandbox/spine-sandbox/internal/assert"
)

// TestStart: the sandbox listens on loopback, its URLs are the session's,
// the admin API's verdict agrees with Verdict, Reset empties the journal,
// and the test's cleanup stops it.
func TestStart(t *testing.T) {
	var url string
	t.Run("running", func(t *testing.T) {
		sb := spinesandbox.Start(t, spinesandbox.WithScenario("happy-path"))
		url = sb.URL()
		if !strings.HasPrefix(url, "http://127.0.0.1:") {
			t.Errorf("URL %q is not on 127.0.0.1", url)
		}
		base := url + "/s/" + sb.SessionID()
		assert.Equal(t, sb.PDSURL(), base+"/personal-demographics/FHIR/R4", "PDS")
		assert.Equal(t, sb.SDSURL(), base+"/spine-directory/FHIR/R4", "SDS")
		assert.Equal(t, sb.SSPURL(), base+"/ssp/", "SSP")
		assert.Equal(t, sb.LDAPURL(), "", "LDAP without WithLDAP")

		v := sb.Verdict()
		assert.Equal(t, v.Passed, false, "verdict before booking")
		assert.Equal(t, v.Outcome, "none", "outcome before booking")

		_, err := sb.Book(context.Background(), "9693632109")
		assert.NilError(t, err)
		v = sb.Verdict()
		if !v.Passed {
			t.Fatalf("verdict after booking: %+v", v)
		}
		res, err := http.Get(url + "/_admin/sessions/" + sb.SessionID() + "/verdict")
		assert.NilError(t, err)
		defer res.Body.Close()
		var admin struct {
			Passed  bool   `json:"passed"`
			Outcome string `json:"outcome"`
		}
		assert.NilError(t, json.NewDecoder(res.Body).Decode(&admin))
		assert.Equal(t, admin.Passed, true, "admin verdict")
		assert.Equal(t, admin.Outcome, v.Outcome, "admin outcome")

		assert.NilError(t, sb.Reset())
		assert.Equal(t, len(sb.Journal()), 0, "hops after Reset")
		assert.Equal(t, sb.Verdict().Outcome, "none", "outcome after Reset")
		_, err = sb.Book(context.Background(), "9693632109")
		assert.NilError(t, err) // the world is fresh: the slot is free again
	})
	if _, err := http.Get(url + "/_admin/health"); err == nil {
		t.Fatal("the sandbox still answers after its test ended")
	}
}

// TestLDAP: WithLDAP serves the directory and hands out the session's URL.
func TestLDAP(t *testing.T) {
	sb := spinesandbox.Start(t, spinesandbox.WithLDAP())
	u := sb.LDAPURL()
	if !strings.HasPrefix(u, "ldap://127.0.0.1:") || !strings.Contains(u, "bindname=cn%3D"+sb.SessionID()) {
		t.Fatalf("LDAP URL %q", u)
	}
}

// TestOptions: conflicting or unknown scenarios are errors from New.
func TestOptions(t *testing.T) {
	for name, opts := range map[string][]spinesandbox.Option{
		"two scenarios": {spinesandbox.WithScenario("happy-path"), spinesandbox.WithScenarioYAML([]byte("name: x\n"))},
		"no such file":  {spinesandbox.WithScenario("no-such-scenario")},
		"escapes":       {spinesandbox.WithScenario("../go.mod")},
		"bad YAML":      {spinesandbox.WithScenarioYAML([]byte("name: [\n"))},
		"bad upstream":  {spinesandbox.WithUpstreams("http://x/")},
	} {
		if sb, err := spinesandbox.New(opts...); err == nil {
			sb.Close()
			t.Errorf("%s: New succeeded", name)
		}
	}
	sb, err := spinesandbox.New(spinesandbox.WithScenario("builtin"))
	assert.NilError(t, err)
	assert.NilError(t, sb.Close())
	assert.NilError(t, sb.Close())
}

// TestTLS: WithTLS serves HTTPS on every URL, HTTPClient trusts it, a
// client that does not refuses it, and the whole journey (the SSP
// forwarding to the provider's https:// root in process) books.
func TestTLS(t *testing.T) {
	sb := spinesandbox.Start(t, spinesandbox.WithTLS())
	if !strings.HasPrefix(sb.PDSURL(), "https://127.0.0.1:") || sb.Certificate() == nil {
		t.Fatalf("PDS URL %q, certificate %v", sb.PDSURL(), sb.Certificate())
	}
	res, err := sb.HTTPClient().Get(sb.URL() + "/_admin/health")
	assert.NilError(t, err)
	res.Body.Close()
	assert.Equal(t, res.StatusCode, 200, "health over TLS")
	if _, err := http.Get(sb.URL() + "/_admin/health"); err == nil {
		t.Error("a client that does not trust the sandbox's certificate got through")
	}
	b, err := sb.Book(context.Background(), "9693632109")
	assert.NilError(t, err)
	assert.Equal(t, b.ODS, "A20047", "booked at")
	for _, h := range sb.Journal() {
		if !strings.HasPrefix(h.URL, "https://") {
			t.Errorf("hop %s at %s", h.Name, h.URL)
		}
	}
}
