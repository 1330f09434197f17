package consumer_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/consumer"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox/sandboxtest"
)

// startLDAP is start with SDS over LDAP: the sandbox's directory on
// 127.0.0.1, the consumer given its ldap:// URL for the test's session.
func startLDAP(t *testing.T, scenario string) (*consumer.Session, *recorder, *sandboxtest.Sandbox) {
	t.Helper()
	sb := sandboxtest.Start(t, scenario)
	rec := &recorder{}
	c, err := consumer.New(consumer.Config{PDS: sb.PDS, SDS: sb.LDAP(t), SSP: sb.SSP, ASID: "200000000115", Identity: identity(),
		OrgTelecom: "0300 000 0001", Timeout: 5 * time.Second, Backoff: 5 * time.Millisecond, Observer: rec.observe})
	assert.NilError(t, err)
	return c.NewSession(), rec, sb
}

// ldapLookups are the consumer's hops of n LDAP lookups (§1.2a).
func ldapLookups(n int) []string {
	var out []string
	for range n {
		out = append(out, "2a sds SEARCH 200", "2c sds SEARCH 200")
	}
	return out
}

var ldapJournal = []string{"2a sds.ldap mhs 200", "2c sds.ldap as 200"}

func TestE2ELDAPHappyPath(t *testing.T) {
	t.Parallel()
	s, rec, sb := startLDAP(t, "")
	b, err := s.Book(context.Background(), consumer.BookRequest{NHSNumber: "9693632109"})
	assert.NilError(t, err)
	assert.Equal(t, b.ODS, "A20047", "registered practice")
	assert.Equal(t, b.Appointment.Resource.Status, "booked", "status")
	assert.DeepEqual(t, rec.lines(0), join(one("1a pds GET 200"),
		ldapLookups(1), one("3a ssp GET 200"),
		ldapLookups(1), one("4a ssp GET 200"),
		ldapLookups(1), one("5a ssp GET 200"),
		ldapLookups(1), one("6a ssp POST 201")), "hops")
	assert.DeepEqual(t, journalLines(sb), join(one("1a pds.retrieve 200"),
		ldapJournal, viaSSP("3", "read metadata", 200),
		ldapJournal, viaSSP("4", "search free slots", 200),
		ldapJournal, viaSSP("5", "find patient", 200),
		ldapJournal, viaSSP("6", "book appointment", 201)), "journal")
	// The journal holds the filter, the entries and the §1.2a verdicts.
	var mhs, as bool
	for _, h := range sb.Hops() {
		switch h.Name {
		case "sds.ldap mhs":
			mhs = true
			assert.Contains(t, h.RequestBody, "filter: (&(nhsIDCode=A20047)(objectClass=nhsMhs)(nhsMhsSvcIA=urn:nhs:names:services:gpconnect:", "MHS request")
			assert.Contains(t, h.ResponseBody, "nhsMhsPartyKey: A20047-821870\n", "MHS response")
		case "sds.ldap as":
			as = true
			assert.Contains(t, h.ResponseBody, "uniqueIdentifier: 918999198993\n", "AS response")
		default:
			continue
		}
		if h.Failed() || len(h.Checks) < 2 {
			t.Errorf("%s checks: %+v", h.Name, h.Checks)
		}
	}
	assert.Equal(t, mhs && as, true, "both LDAP searches journaled")
}

func TestE2ELDAPNoRecordRegistersThenBooks(t *testing.T) {
	t.Parallel()
	s, _, sb := startLDAP(t, "")
	b, err := s.Book(context.Background(), consumer.BookRequest{NHSNumber: "9733162043"})
	assert.NilError(t, err)
	assert.Equal(t, b.Patient.Registered, true, "registered first")
	assert.DeepEqual(t, journalLines(sb), join(one("1a pds.retrieve 200"),
		ldapJournal, viaSSP("3", "read metadata", 200),
		ldapJournal, viaSSP("4", "search free slots", 200),
		ldapJournal, viaSSP("5", "find patient", 200),
		ldapJournal, []string{"5f provider.register patient 200", "5e ssp.register patient 200"},
		ldapJournal, viaSSP("6", "book appointment", 201)), "journal")
}

// noSlotEndpoint is the library's scenario whose practice has no MHS
// record for search free slots.
func noSlotEndpoint(t *testing.T) string {
	b, err := os.ReadFile("../../scenarios/sds-no-slot-endpoint.yaml")
	assert.NilError(t, err)
	return string(b)
}

// TestE2ELDAPErrors: the errors of the FHIR path, from LDAP.
func TestE2ELDAPErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, scenario string
		ods            string
		want           error
		step           string
		status         int
		code           string
	}{
		{"unknown practice", "", "Z99999", consumer.ErrNoEndpoint, "2a", 200, ""},
		{"no endpoint for slots", noSlotEndpoint(t), "A20047", consumer.ErrNoEndpoint, "2a", 200, ""},
		{"directory busy", "name: t\nextends: builtin\nfaults:\n  - {hop: sds, interaction: ldap mhs, status: 429}\n", "A20047", consumer.ErrRemote, "2a", 429, "busy"},
		{"AS search refused", "name: t\nextends: builtin\nfaults:\n  - {hop: sds, interaction: ldap as, status: 403}\n", "A20047", consumer.ErrRemote, "2c", 403, "insufficientAccessRights"},
		{"connection dropped", "name: t\nextends: builtin\nfaults:\n  - {hop: sds, drop: true}\n", "A20047", consumer.ErrTransport, "2a", 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, _, _ := startLDAP(t, tc.scenario)
			_, err := s.Endpoint(context.Background(), tc.ods, gpc.SearchSlots)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			e, _ := consumer.AsError(err)
			assert.Equal(t, e.Step, tc.step, "step")
			assert.Equal(t, e.Status, tc.status, "status")
			assert.Equal(t, e.Code, tc.code, "code")
		})
	}
}

// TestE2ELDAPRetriesOnce: a busy directory once is retried, as the FHIR
// path retries a 429.
func TestE2ELDAPRetriesOnce(t *testing.T) {
	t.Parallel()
	s, rec, sb := startLDAP(t, "name: t\nextends: builtin\nfaults:\n  - {hop: sds, status: 503, times: 1}\n")
	ep, err := s.Endpoint(context.Background(), "A20047", gpc.SearchSlots)
	assert.NilError(t, err)
	assert.Equal(t, ep.ASID, "918999198993", "ASID")
	assert.DeepEqual(t, rec.lines(0), []string{"2a sds SEARCH 503", "2a sds SEARCH 200", "2c sds SEARCH 200"}, "hops")
	hops := sb.Hops()
	assert.Equal(t, hops[0].Code, "unavailable", "journal code of the faulted search")
	if !strings.Contains(hops[0].Fault, "sds fault") {
		t.Errorf("fault = %q", hops[0].Fault)
	}
}
