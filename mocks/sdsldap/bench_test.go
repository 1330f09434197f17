package sdsldap_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/mocks/sds"
	"github.com/spine-sandbox/spine-sandbox/mocks/sdsldap"
)

// BenchmarkLookup compares §1.2a step 1 over LDAP (an nhsMhs search,
// go-ldap over loopback) with the same lookup on the FHIR SDS (GET
// /Endpoint over HTTP on loopback), on the built-in world, in one run:
// each on a kept-alive connection, and LDAP also with a connection per
// lookup as internal/consumer makes it.
func BenchmarkLookup(b *testing.B) {
	addr, _ := start(b, sdsldap.Config{})
	filter := "(&(nhsIDCode=A20047)(objectClass=nhsMhs)(nhsMhsSvcIA=" + slots + "))"
	attrs := []string{"nhsMhsEndPoint", "nhsMhsPartyKey"}
	mhs := func(b *testing.B, c *ldap.Conn) {
		r, err := search(c, base, filter, attrs, 0)
		if err != nil || len(r.Entries) != 1 {
			b.Fatalf("search: %v", err)
		}
	}
	b.Run("ldap mhs", func(b *testing.B) {
		c := dial(b, addr)
		for b.Loop() {
			mhs(b, c)
		}
	})
	b.Run("ldap mhs, new connection", func(b *testing.B) {
		for b.Loop() {
			c, err := ldap.DialURL("ldap://" + addr)
			if err != nil {
				b.Fatal(err)
			}
			mhs(b, c)
			c.Close()
		}
	})
	b.Run("fhir endpoint", func(b *testing.B) {
		srv := httptest.NewServer(sds.New(builtinWorld(b)))
		defer srv.Close()
		q := url.Values{"organization": {gpc.SystemODSCode + "|A20047"}, "identifier": {gpc.SystemInteractionID + "|" + slots}}
		u := srv.URL + "/Endpoint?" + q.Encode()
		client := srv.Client()
		for b.Loop() {
			res, err := client.Get(u)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				b.Fatalf("status %d", res.StatusCode)
			}
		}
	})
}
