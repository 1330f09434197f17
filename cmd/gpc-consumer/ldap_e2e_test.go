package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox/sandboxtest"
)

// TestMainBooksWithLDAPSDS: book --sds ldap://... runs steps 2a-2d as
// gpconnect-1.6.md §1.2a's LDAP searches and books.
func TestMainBooksWithLDAPSDS(t *testing.T) {
	t.Parallel()
	sb := sandboxtest.Start(t, "")
	sds := sb.LDAP(t)
	var out, errb bytes.Buffer
	code := Main([]string{"book", "-v", "--nhs-number", "9693632109", "--pds", sb.PDS, "--sds", sds, "--ssp", sb.SSP}, env(nil), &out, &errb)
	assert.Equal(t, code, 0, "exit code; stderr: "+errb.String())
	assert.Contains(t, out.String(), "(&(nhsIDCode=A20047)(objectClass=nhsMhs)(nhsMhsSvcIA=urn:nhs:names:services:gpconnect:fhir:rest:create:appointment-1)) → 200", "step 2a printed")
	assert.Contains(t, out.String(), "booked appointment ", "result")
	var ldap int
	for _, h := range sb.Hops() {
		if strings.HasPrefix(h.Name, "sds.ldap ") {
			ldap++
		}
	}
	assert.Equal(t, ldap, 8, "LDAP searches journaled (4 interactions × MHS and AS)")
}
