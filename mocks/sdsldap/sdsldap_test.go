package sdsldap_test

import (
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
	"github.com/spine-sandbox/spine-sandbox/internal/world"
	"github.com/spine-sandbox/spine-sandbox/mocks/sdsldap"
)

// The built-in world's facts (internal/scenario/builtin.yaml) the tests
// expect, and the service root the sandbox's own provider has there.
const (
	publicBase   = "http://127.0.0.1:4000"
	a20047ASID   = "918999198993"
	a20047PK     = "A20047-821870"
	a20047Root   = publicBase + "/provider/A20047/STU3/1/gpconnect"
	consumerODS  = "A1001"
	consumerASID = "200000000115"
	slots        = string(gpc.SearchSlots)
	base         = "ou=services,o=nhs"
	specBase     = "ou=services, o=nhs" // as gpconnect-1.6.md §1.2a writes it
)

var now = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// builtinWorld is scenario.Default()'s world, served at publicBase.
func builtinWorld(t testing.TB) *world.World {
	t.Helper()
	data, err := scenario.Default().World(now)
	assert.NilError(t, err)
	return world.New(data, publicBase, func() time.Time { return now })
}

// otherWorld is a one-practice world for the session tests.
func otherWorld() *world.World {
	return world.New(world.Data{
		Consumer:  world.ConsumerSystem{ASID: "111111111111", ODS: "B1", Interactions: []gpc.Interaction{gpc.SearchSlots}},
		Practices: []world.Practice{{ODS: "B82617", ProviderASID: "222222222222", PartyKey: "B82617-1", Interactions: []gpc.Interaction{gpc.SearchSlots}}},
	}, "http://other.example", func() time.Time { return now })
}

// dirs is a test's sessions, safe to change while the server runs.
type dirs struct {
	mu sync.Mutex
	m  map[string]sdsldap.Directory
}

func (d *dirs) get(id string) (sdsldap.Directory, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	v, ok := d.m[id]
	return v, ok
}

// start serves sessions "default" (the built-in world) and "other" on
// 127.0.0.1:0 until the test ends.
func start(t testing.TB, cfg sdsldap.Config) (string, *dirs) {
	t.Helper()
	d := &dirs{m: map[string]sdsldap.Directory{
		"default": {World: builtinWorld(t)},
		"other":   {World: otherWorld()},
	}}
	cfg.Sessions = d.get
	srv := sdsldap.New(cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NilError(t, err)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		assert.NilError(t, srv.Close())
		assert.NilError(t, <-done)
	})
	return ln.Addr().String(), d
}

func dial(t testing.TB, addr string) *ldap.Conn {
	t.Helper()
	c, err := ldap.DialURL("ldap://" + addr)
	assert.NilError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

func search(c *ldap.Conn, baseDN, filter string, attrs []string, sizeLimit int) (*ldap.SearchResult, error) {
	return c.Search(ldap.NewSearchRequest(baseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, sizeLimit, 0, false, filter, attrs, nil))
}

// code is the LDAP result code of err (0 for nil).
func code(err error) uint16 {
	var e *ldap.Error
	if errors.As(err, &e) {
		return e.ResultCode
	}
	if err != nil {
		return 65535
	}
	return 0
}

// ids lists the entries' uniqueIdentifiers (or DNs for the containers).
func ids(r *ldap.SearchResult) []string {
	var out []string
	for _, e := range r.Entries {
		if id := e.GetAttributeValue("uniqueIdentifier"); id != "" {
			out = append(out, id)
			continue
		}
		out = append(out, e.DN)
	}
	return out
}

// TestSpecQueries runs gpconnect-1.6.md §1.2a's three queries, as the spec
// spells them, against the built-in world.
func TestSpecQueries(t *testing.T) {
	addr, _ := start(t, sdsldap.Config{})
	c := dial(t, addr)

	// Step 1: the MHS record of one interaction at the practice.
	r, err := search(c, specBase, "(&(nhsIDCode=A20047)(objectClass=nhsMhs)(nhsMhsSvcIA="+slots+"))", []string{"nhsMhsEndPoint", "nhsMhsPartyKey"}, 0)
	assert.NilError(t, err)
	assert.Equal(t, len(r.Entries), 1, "MHS entries")
	assert.Equal(t, r.Entries[0].GetAttributeValue("nhsMhsEndPoint"), a20047Root, "nhsMhsEndPoint")
	assert.Equal(t, r.Entries[0].GetAttributeValue("nhsMhsPartyKey"), a20047PK, "nhsMhsPartyKey")
	assert.Equal(t, len(r.Entries[0].Attributes), 2, "attributes returned (only those asked for)")

	// Step 2: the AS record by party key, with the spec's nhsMHSPartyKey.
	r, err = search(c, specBase, "(&(nhsIDCode=A20047)(objectClass=nhsAs)(nhsMHSPartyKey="+a20047PK+"))", []string{"uniqueIdentifier"}, 0)
	assert.NilError(t, err)
	assert.DeepEqual(t, ids(r), []string{a20047ASID}, "ASID")

	// The consumer's own ASID, with the spec's objectClass=nhsAS.
	r, err = search(c, specBase, "(&(nhsIDCode="+consumerODS+")(objectClass=nhsAS)(nhsAsSvcIA="+slots+")(nhsMhsManufacturerOrg="+consumerODS+"))", []string{"uniqueIdentifier"}, 0)
	assert.NilError(t, err)
	assert.DeepEqual(t, ids(r), []string{consumerASID}, "consumer ASID")
}

// TestFilters evaluates every filter type against the built-in world.
func TestFilters(t *testing.T) {
	addr, _ := start(t, sdsldap.Config{})
	c := dial(t, addr)
	mhs := world.MHSID("A20047", gpc.SearchSlots)
	asids := []string{a20047ASID, "200000000116", consumerASID}
	for _, tc := range []struct {
		name, filter string
		want         []string
	}{
		{"equality AND", "(&(nhsIDCode=A20047)(objectClass=nhsMhs)(nhsMhsSvcIA=" + slots + "))", []string{mhs}},
		{"names and values in any case", "(&(NHSIDCODE=a20047)(OBJECTCLASS=NHSMHS)(nhsmhssvcia=" + strings.ToUpper(slots) + "))", []string{mhs}},
		{"OR", "(&(objectClass=nhsAs)(|(nhsIDCode=A20047)(nhsIDCode=A1001)))", []string{a20047ASID, consumerASID}},
		{"NOT", "(&(objectClass=nhsAs)(!(nhsIDCode=A20047)))", []string{"200000000116", consumerASID}},
		{"presence", "(&(objectClass=nhsAs)(nhsMhsPartyKey=*))", asids},
		{"substring", "(&(objectClass=nhsAs)(nhsMhsPartyKey=a2*18*0))", []string{a20047ASID}},
		{"greater or equal", "(&(objectClass=nhsAs)(uniqueIdentifier>=9))", []string{a20047ASID}},
		{"less or equal", "(&(objectClass=nhsAs)(uniqueIdentifier<=200000000115))", []string{consumerASID}},
		{"approximate is equality", "(&(objectClass=nhsAs)(nhsIDCode~=y12345))", []string{"200000000116"}},
		{"unknown attribute", "(noSuchAttribute=x)", nil},
		{"unknown ODS", "(&(nhsIDCode=Z99999)(objectClass=nhsMhs))", nil},
		{"containers", "(|(objectClass=organization)(objectClass=organizationalUnit))", []string{"o=nhs", base}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := search(c, "o=nhs", tc.filter, []string{"uniqueIdentifier"}, 0)
			assert.NilError(t, err)
			assert.DeepEqual(t, ids(r), tc.want, "matches of "+tc.filter)
		})
	}
	t.Run("extensible match refused", func(t *testing.T) {
		_, err := search(c, base, "(nhsIDCode:caseExactMatch:=A20047)", nil, 0)
		assert.Equal(t, code(err), ldap.LDAPResultUnwillingToPerform, "result code")
	})
}

// TestAttributesAndScope checks the requested attribute list, typesOnly,
// the base DN and the three scopes.
func TestAttributesAndScope(t *testing.T) {
	addr, _ := start(t, sdsldap.Config{})
	c := dial(t, addr)
	filter := "(&(nhsIDCode=A20047)(objectClass=nhsMhs)(nhsMhsSvcIA=" + slots + "))"
	names := func(attrs []string) []string {
		r, err := search(c, base, filter, attrs, 0)
		assert.NilError(t, err)
		assert.Equal(t, len(r.Entries), 1, "entries")
		var out []string
		for _, a := range r.Entries[0].Attributes {
			out = append(out, a.Name)
		}
		return out
	}
	all := []string{"objectClass", "uniqueIdentifier", "nhsIDCode", "nhsMhsSvcIA", "nhsMhsEndPoint", "nhsMhsPartyKey", "nhsMhsFQDN", "nhsMhsCPAId", "nhsMHSId"}
	assert.DeepEqual(t, names(nil), all, "no list: every attribute")
	assert.DeepEqual(t, names([]string{"*"}), all, "*: every attribute")
	assert.DeepEqual(t, names([]string{"1.1"}), []string(nil), "1.1: none")
	assert.DeepEqual(t, names([]string{"NHSMHSFQDN", "nhsmhspartykey"}), []string{"nhsMhsPartyKey", "nhsMhsFQDN"}, "a list in any case")

	r, err := c.Search(ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, true, filter, []string{"nhsMhsFQDN"}, nil))
	assert.NilError(t, err)
	assert.Equal(t, len(r.Entries[0].Attributes[0].Values), 0, "typesOnly: no values")

	count := func(baseDN string, scope int) (int, error) {
		r, err := c.Search(ldap.NewSearchRequest(baseDN, scope, ldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", []string{"1.1"}, nil))
		if err != nil {
			return 0, err
		}
		return len(r.Entries), nil
	}
	// The built-in world: 2 practices × 13 interactions MHS records, 3 AS records.
	n := len(gpc.Interactions)
	for _, tc := range []struct {
		base  string
		scope int
		want  int
	}{
		{base, ldap.ScopeBaseObject, 1},
		{base, ldap.ScopeSingleLevel, 2*n + 3},
		{base, ldap.ScopeWholeSubtree, 2*n + 3 + 1},
		{"o=nhs", ldap.ScopeSingleLevel, 1},
		{"O=NHS", ldap.ScopeWholeSubtree, 2*n + 3 + 2},
		{"uniqueIdentifier=" + a20047ASID + "," + specBase, ldap.ScopeBaseObject, 1},
	} {
		got, err := count(tc.base, tc.scope)
		assert.NilError(t, err)
		assert.Equal(t, got, tc.want, "entries under "+tc.base)
	}
	for _, outside := range []string{"o=elsewhere", "ou=people,o=nhs", "uniqueIdentifier=1," + base} {
		_, err := count(outside, ldap.ScopeWholeSubtree)
		assert.Equal(t, code(err), ldap.LDAPResultNoSuchObject, "result for base "+outside)
	}
	_, err = count("not a dn", ldap.ScopeWholeSubtree)
	assert.Equal(t, code(err), ldap.LDAPResultInvalidDNSyntax, "result for a malformed base")
}

// TestSizeLimit checks the client's size limit and the server's cap.
func TestSizeLimit(t *testing.T) {
	addr, _ := start(t, sdsldap.Config{MaxEntries: 5})
	c := dial(t, addr)
	r, err := search(c, base, "(objectClass=nhsAs)", []string{"1.1"}, 2)
	assert.Equal(t, code(err), ldap.LDAPResultSizeLimitExceeded, "client limit 2, 3 matches")
	assert.Equal(t, len(r.Entries), 2, "entries sent within the limit")
	r, err = search(c, base, "(objectClass=nhsAs)", []string{"1.1"}, 3)
	assert.NilError(t, err)
	assert.Equal(t, len(r.Entries), 3, "entries at exactly the limit")
	r, err = search(c, base, "(objectClass=*)", []string{"1.1"}, 0)
	assert.Equal(t, code(err), ldap.LDAPResultSizeLimitExceeded, "no client limit: the server's cap of 5")
	assert.Equal(t, len(r.Entries), 5, "entries within the server's cap")
}

// TestRefusals asserts the result code of everything the directory does
// not allow.
func TestRefusals(t *testing.T) {
	addr, _ := start(t, sdsldap.Config{})
	c := dial(t, addr)
	dn := "uniqueIdentifier=" + a20047ASID + "," + base
	add := ldap.NewAddRequest("uniqueIdentifier=1,"+base, nil)
	add.Attribute("objectClass", []string{"nhsAs"})
	mod := ldap.NewModifyRequest(dn, nil)
	mod.Replace("nhsMhsPartyKey", []string{"X"})
	_, cmpErr := c.Compare(dn, "nhsIDCode", "A20047")
	for _, tc := range []struct {
		name string
		err  error
		want uint16
	}{
		{"add", c.Add(add), ldap.LDAPResultInsufficientAccessRights},
		{"modify", c.Modify(mod), ldap.LDAPResultInsufficientAccessRights},
		{"delete", c.Del(ldap.NewDelRequest(dn, nil)), ldap.LDAPResultInsufficientAccessRights},
		{"modify DN", c.ModifyDN(ldap.NewModifyDNRequest(dn, "uniqueIdentifier=2", true, "")), ldap.LDAPResultInsufficientAccessRights},
		{"compare", cmpErr, ldap.LDAPResultUnwillingToPerform},
		{"bind with a password", c.Bind("cn=default", "secret"), ldap.LDAPResultInvalidCredentials},
		{"bind to an unknown session", c.UnauthenticatedBind("cn=nope"), ldap.LDAPResultInvalidCredentials},
		{"bind with another DN", c.UnauthenticatedBind("uid=someone,ou=people,o=nhs"), ldap.LDAPResultInvalidCredentials},
	} {
		assert.Equal(t, code(tc.err), tc.want, tc.name+": result code")
	}
	// After every refusal the connection still reads the default session.
	r, err := search(c, base, "(&(objectClass=nhsAs)(nhsIDCode=A20047))", []string{"uniqueIdentifier"}, 0)
	assert.NilError(t, err)
	assert.DeepEqual(t, ids(r), []string{a20047ASID}, "default session after refusals")
}

// TestSessions: cn=<id> selects a session for the connection; anonymous
// clients read the default one.
func TestSessions(t *testing.T) {
	addr, d := start(t, sdsldap.Config{})
	filter := "(objectClass=nhsAs)"
	anon := dial(t, addr)
	r, err := search(anon, base, filter, []string{"uniqueIdentifier"}, 0)
	assert.NilError(t, err)
	assert.DeepEqual(t, ids(r), []string{a20047ASID, "200000000116", consumerASID}, "anonymous: default session")

	other := dial(t, addr)
	assert.NilError(t, other.UnauthenticatedBind("cn=other"))
	r, err = search(other, base, filter, []string{"uniqueIdentifier"}, 0)
	assert.NilError(t, err)
	assert.DeepEqual(t, ids(r), []string{"222222222222", "111111111111"}, "cn=other")

	assert.NilError(t, other.UnauthenticatedBind(""))
	r, err = search(other, base, filter, []string{"uniqueIdentifier"}, 0)
	assert.NilError(t, err)
	assert.Equal(t, len(r.Entries), 3, "an anonymous rebind: the default session again")

	assert.NilError(t, other.UnauthenticatedBind("CN=other"))
	d.mu.Lock()
	delete(d.m, "other")
	d.mu.Unlock()
	_, err = search(other, base, filter, nil, 0)
	assert.Equal(t, code(err), ldap.LDAPResultUnavailable, "the session deleted under the connection")
}

// TestFaultsAndObserve: a fault's result, delay and drop, and what the
// journal hook is told.
func TestFaultsAndObserve(t *testing.T) {
	addr, d := start(t, sdsldap.Config{})
	var mu sync.Mutex
	var seen []sdsldap.Search
	var fault *sdsldap.Fault
	dir := sdsldap.Directory{
		World: builtinWorld(t),
		Fault: func(kind string) *sdsldap.Fault {
			mu.Lock()
			defer mu.Unlock()
			if kind == sdsldap.KindMHS {
				return fault
			}
			return nil
		},
		Observe: func(s sdsldap.Search) { mu.Lock(); seen = append(seen, s); mu.Unlock() },
	}
	d.mu.Lock()
	d.m["default"] = dir
	d.mu.Unlock()
	setFault := func(f *sdsldap.Fault) { mu.Lock(); fault = f; mu.Unlock() }
	mhsFilter := "(&(nhsIDCode=A20047)(objectClass=nhsMhs)(nhsMhsSvcIA=" + slots + "))"
	c := dial(t, addr)

	_, err := search(c, base, mhsFilter, []string{"nhsMhsEndPoint"}, 0)
	assert.NilError(t, err)
	mu.Lock()
	got := seen[0]
	mu.Unlock()
	assert.Equal(t, got.Kind, sdsldap.KindMHS, "kind")
	assert.Equal(t, got.Filter, mhsFilter, "filter")
	assert.Equal(t, sdsldap.LDIF(got.Entries), "dn: uniqueIdentifier="+world.MHSID("A20047", gpc.SearchSlots)+","+base+"\nnhsMhsEndPoint: "+a20047Root+"\n", "entries as LDIF")

	setFault(&sdsldap.Fault{Result: ldap.LDAPResultBusy, Describe: "sds fault: busy"})
	_, err = search(c, base, mhsFilter, nil, 0)
	assert.Equal(t, code(err), ldap.LDAPResultBusy, "injected result")
	r, err := search(c, base, "(objectClass=nhsAs)", []string{"1.1"}, 0)
	assert.NilError(t, err)
	assert.Equal(t, len(r.Entries), 3, "an AS search is not faulted")

	setFault(&sdsldap.Fault{Delay: 150 * time.Millisecond})
	began := time.Now()
	_, err = search(c, base, mhsFilter, nil, 0)
	assert.NilError(t, err)
	if d := time.Since(began); d < 150*time.Millisecond {
		t.Errorf("a delayed search answered after %v, want at least 150ms", d)
	}

	setFault(&sdsldap.Fault{Drop: true})
	_, err = search(c, base, mhsFilter, nil, 0)
	if err == nil || code(err) == 0 {
		t.Fatalf("a dropped search answered: %v", err)
	}
	mu.Lock()
	last := seen[len(seen)-1]
	mu.Unlock()
	assert.Equal(t, last.Dropped, true, "journal told of the drop")
}

// TestBounds: an oversized message ends the connection; more connections
// than allowed are turned away; Close ends idle connections.
func TestBounds(t *testing.T) {
	addr, _ := start(t, sdsldap.Config{MaxMessageBytes: 512, MaxConns: 2})
	c := dial(t, addr)
	_, err := search(c, base, "(nhsIDCode="+strings.Repeat("x", 600)+")", nil, 0)
	if err == nil {
		t.Fatal("a 600-byte filter over a 512-byte limit was answered")
	}
	// c's connection is closed by now; two more fill the server.
	time.Sleep(50 * time.Millisecond)
	dial(t, addr)
	second := dial(t, addr)
	_, err = search(second, base, "(objectClass=nhsAs)", []string{"1.1"}, 0)
	assert.NilError(t, err)
	third := dial(t, addr)
	_, err = search(third, base, "(objectClass=nhsAs)", []string{"1.1"}, 0)
	if err == nil {
		t.Fatal("a third connection over a limit of 2 was served")
	}
}

// TestCloseEndsConnections: Close returns promptly with clients idle and
// mid-delay, and they see their connections end.
func TestCloseEndsConnections(t *testing.T) {
	d := &dirs{m: map[string]sdsldap.Directory{"default": {
		World: builtinWorld(t),
		Fault: func(string) *sdsldap.Fault { return &sdsldap.Fault{Delay: time.Minute} },
	}}}
	srv := sdsldap.New(sdsldap.Config{Sessions: d.get})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NilError(t, err)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	idle := dial(t, ln.Addr().String())
	busy := dial(t, ln.Addr().String())
	answered := make(chan error, 1)
	go func() {
		_, err := search(busy, base, "(objectClass=*)", nil, 0)
		answered <- err
	}()
	time.Sleep(100 * time.Millisecond)
	began := time.Now()
	assert.NilError(t, srv.Close())
	assert.NilError(t, <-done)
	if took := time.Since(began); took > 2*time.Second {
		t.Errorf("Close took %v", took)
	}
	if err := <-answered; err == nil {
		t.Error("the delayed search was answered after Close")
	}
	_, err = search(idle, base, "(objectClass=*)", nil, 0)
	if err == nil {
		t.Error("an idle connection still answers after Close")
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Error("the listener still accepts after Close")
	}
}
