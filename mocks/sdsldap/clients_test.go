package sdsldap_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/mocks/sds"
	"github.com/spine-sandbox/spine-sandbox/mocks/sdsldap"
)

// TestLdapsearch runs §1.2a's three example queries with OpenLDAP's
// ldapsearch (Debian's ldap-utils), an LDAP client that shares no code
// with this package. It skips without ldapsearch, except under CI=true.
func TestLdapsearch(t *testing.T) {
	bin, err := exec.LookPath("ldapsearch")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("ldapsearch not found: .ci/run installs Debian's ldap-utils")
		}
		t.Skip("ldapsearch not found (apt-get install ldap-utils); CI=true makes this a failure")
	}
	addr, _ := start(t, sdsldap.Config{})
	for _, tc := range []struct {
		name   string
		filter string
		attrs  []string
		want   []string // lines the LDIF must hold
	}{
		{"step 1: MHS record", "(&(nhsIDCode=A20047)(objectClass=nhsMhs)(nhsMhsSvcIA=" + slots + "))",
			[]string{"nhsMhsEndPoint", "nhsMhsPartyKey"},
			[]string{"nhsMhsEndPoint: " + a20047Root, "nhsMhsPartyKey: " + a20047PK, "# numEntries: 1"}},
		{"step 2: AS record by party key", "(&(nhsIDCode=A20047)(objectClass=nhsAs)(nhsMHSPartyKey=" + a20047PK + "))",
			[]string{"uniqueIdentifier"},
			[]string{"uniqueIdentifier: " + a20047ASID, "# numEntries: 1"}},
		{"the consumer's own ASID", "(&(nhsIDCode=" + consumerODS + ")(objectClass=nhsAS)(nhsAsSvcIA=" + slots + ")(nhsMhsManufacturerOrg=" + consumerODS + "))",
			[]string{"uniqueIdentifier"},
			[]string{"uniqueIdentifier: " + consumerASID, "# numEntries: 1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"-x", "-o", "ldif-wrap=no", "-H", "ldap://" + addr, "-b", specBase, tc.filter}, tc.attrs...)
			out, err := exec.Command(bin, args...).CombinedOutput()
			assert.NilError(t, err)
			for _, line := range tc.want {
				assert.Contains(t, string(out), line+"\n", "ldapsearch output")
			}
			if n := strings.Count(string(out), "dn: "); n != 1 {
				t.Errorf("ldapsearch printed %d entries, want 1:\n%s", n, out)
			}
		})
	}
	t.Run("-D cn=<session> selects the session", func(t *testing.T) {
		out, err := exec.Command(bin, "-x", "-H", "ldap://"+addr, "-D", "cn=other", "-b", base, "(objectClass=nhsAs)", "uniqueIdentifier").CombinedOutput()
		assert.NilError(t, err)
		assert.Contains(t, string(out), "uniqueIdentifier: 222222222222\n", "session other's provider ASID")
		assert.Contains(t, string(out), "# numEntries: 2\n", "session other's AS records")
	})
	t.Run("a bind with a password is refused", func(t *testing.T) {
		out, err := exec.Command(bin, "-x", "-H", "ldap://"+addr, "-D", "cn=default", "-w", "secret", "-b", base, "(objectClass=nhsAs)").CombinedOutput()
		if err == nil {
			t.Fatalf("ldapsearch with a password succeeded:\n%s", out)
		}
		assert.Contains(t, string(out), "Invalid credentials (49)", "ldapsearch's message")
	})
}

// TestSameAsFHIR is the property that the two SDS faces tell one truth:
// for every practice of the built-in world and every GP Connect
// interaction, the LDAP directory (§1.2a's queries) and the FHIR SDS
// (GET /Endpoint, GET /Device through mocks/sds's handler) name the same
// endpoint, party key and ASID — or both none.
func TestSameAsFHIR(t *testing.T) {
	addr, _ := start(t, sdsldap.Config{})
	c := dial(t, addr)
	w := builtinWorld(t)
	fhir := httptest.NewServer(sds.New(w))
	t.Cleanup(fhir.Close)

	type facts struct{ endpoint, partyKey, asid string }
	viaLDAP := func(ods string, in gpc.Interaction) facts {
		var f facts
		r, err := search(c, specBase, "(&(nhsIDCode="+ods+")(objectClass=nhsMhs)(nhsMhsSvcIA="+string(in)+"))", []string{"nhsMhsEndPoint", "nhsMhsPartyKey"}, 0)
		assert.NilError(t, err)
		if len(r.Entries) == 0 {
			return f
		}
		f.endpoint, f.partyKey = r.Entries[0].GetAttributeValue("nhsMhsEndPoint"), r.Entries[0].GetAttributeValue("nhsMhsPartyKey")
		r, err = search(c, specBase, "(&(nhsIDCode="+ods+")(objectClass=nhsAs)(nhsMHSPartyKey="+f.partyKey+"))", []string{"uniqueIdentifier"}, 0)
		assert.NilError(t, err)
		if len(r.Entries) > 0 {
			f.asid = r.Entries[0].GetAttributeValue("uniqueIdentifier")
		}
		return f
	}
	viaFHIR := func(ods string, in gpc.Interaction) facts {
		var f facts
		q := url.Values{"organization": {gpc.SystemODSCode + "|" + ods}, "identifier": {gpc.SystemInteractionID + "|" + string(in)}}
		for _, e := range fhirSearch(t, fhir.URL+"/Endpoint?"+q.Encode()) {
			f.endpoint = e.Address
			f.partyKey = e.id(gpc.SystemPartyKey)
		}
		if f.endpoint == "" {
			return f
		}
		q.Add("identifier", gpc.SystemPartyKey+"|"+f.partyKey)
		for _, d := range fhirSearch(t, fhir.URL+"/Device?"+q.Encode()) {
			f.asid = d.id(gpc.SystemASID)
		}
		return f
	}
	checked := 0
	for _, p := range w.Practices() {
		for _, info := range gpc.Interactions {
			got, want := viaLDAP(p.ODS, info.ID), viaFHIR(p.ODS, info.ID)
			assert.Equal(t, got, want, p.ODS+" "+info.Name)
			if want.endpoint != "" {
				checked++
			}
		}
	}
	if checked == 0 {
		t.Fatal("no practice of the built-in world has an endpoint: the property held vacuously")
	}
	assert.Equal(t, viaLDAP("Z99999", gpc.SearchSlots), facts{}, "an unknown practice")
}

type fhirResource struct {
	Address    string `json:"address"`
	Identifier []struct {
		System string `json:"system"`
		Value  string `json:"value"`
	} `json:"identifier"`
}

func (r fhirResource) id(system string) string {
	for _, i := range r.Identifier {
		if i.System == system {
			return i.Value
		}
	}
	return ""
}

func fhirSearch(t *testing.T, u string) []fhirResource {
	t.Helper()
	res, err := http.Get(u)
	assert.NilError(t, err)
	defer res.Body.Close()
	assert.Equal(t, res.StatusCode, http.StatusOK, "status of "+u)
	var b struct {
		Entry []struct {
			Resource fhirResource `json:"resource"`
		} `json:"entry"`
	}
	assert.NilError(t, json.NewDecoder(res.Body).Decode(&b))
	out := make([]fhirResource, len(b.Entry))
	for i, e := range b.Entry {
		out[i] = e.Resource
	}
	return out
}
