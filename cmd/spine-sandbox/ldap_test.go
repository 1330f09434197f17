package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox/sandboxtest"
)

func TestParseServeLDAPAddr(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"default", nil, nil, "127.0.0.1:4389"},
		{"flag", []string{"--ldap-addr", "127.0.0.1:1389"}, nil, "127.0.0.1:1389"},
		{"off", []string{"--ldap-addr", ""}, nil, ""},
		{"env", nil, map[string]string{"SPINE_SANDBOX_LDAP_ADDR": "0.0.0.0:389"}, "0.0.0.0:389"},
	} {
		c, err := parseServe(tc.args, func(k string) string { return tc.env[k] }, &bytes.Buffer{})
		assert.NilError(t, err)
		assert.Equal(t, c.LDAPAddr, tc.want, tc.name)
	}
	_, err := parseServe([]string{"--ldap-addr", "nohostport"}, noenv, &bytes.Buffer{})
	assert.Contains(t, err.Error(), "--ldap-addr", "a bad LDAP address")
}

// TestServeLDAP: serve starts the SDS LDAP directory beside the HTTP
// listener, prints it, answers §1.2a's step-1 query from the default
// session, and stops it on shutdown.
func TestServeLDAP(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	var out, errb syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- mainContext(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--ldap-addr", "127.0.0.1:0"}, noenv, &out, &errb, ready)
	}()
	select {
	case <-ready:
	case code := <-done:
		t.Fatalf("serve exited early with %d: %s", code, errb.String())
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not start")
	}
	m := regexp.MustCompile(`SDS LDAP  ldap://([0-9.:]+)/ou=services,o=nhs`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no LDAP address in the banner:\n%s", out.String())
	}
	c, err := ldap.DialURL("ldap://" + m[1])
	assert.NilError(t, err)
	r, err := c.Search(ldap.NewSearchRequest("ou=services, o=nhs", ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		"(&(nhsIDCode=A20047)(objectClass=nhsMhs)(nhsMhsSvcIA=urn:nhs:names:services:gpconnect:fhir:rest:search:slot-1))",
		[]string{"nhsMhsPartyKey"}, nil))
	assert.NilError(t, err)
	assert.Equal(t, r.Entries[0].GetAttributeValue("nhsMhsPartyKey"), "A20047-821870", "party key")
	cancel()
	select {
	case code := <-done:
		assert.Equal(t, code, 0, "exit code after shutdown")
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not shut down with an LDAP client connected")
	}
	c.Close()
	if nc, err := net.DialTimeout("tcp", m[1], time.Second); err == nil {
		nc.Close()
		t.Error("the LDAP listener still accepts after shutdown")
	}
}

// TestRunLDAPAware: the admin API's run (the live diagram's "Run
// scenario") of a run.sds: ldap scenario uses serve's LDAP directory.
func TestRunLDAPAware(t *testing.T) {
	t.Parallel()
	yaml, err := os.ReadFile("../../scenarios/ldap-happy-path.yaml")
	assert.NilError(t, err)
	sb := sandboxtest.Start(t, string(yaml))
	u, err := url.Parse(sb.LDAP(t))
	assert.NilError(t, err)
	addr := u.Host
	assert.NilError(t, runLDAPAware(&addr)(context.Background(), sb.Session))
	var got []string
	for _, h := range sb.Hops() {
		got = append(got, fmt.Sprintf("%s %d", h.Name, h.Status))
	}
	assert.Equal(t, got[1], "sds.ldap mhs 200", "first lookup over LDAP")
	assert.Equal(t, got[len(got)-1], "ssp.book appointment 201", "booked")

	none := ""
	err = runLDAPAware(&none)(context.Background(), sb.Session)
	assert.Contains(t, fmt.Sprint(err), "run.sds: ldap needs the sandbox's SDS LDAP directory", "without a directory")
}
