package sandboxtest

import (
	"net"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/mocks/sdsldap"
)

// LDAP serves the sandbox's SDS LDAP directory on 127.0.0.1 until the test
// ends and returns the LDAP URL of the test's session: the base DN and,
// for a session other than the default, the bindname extension
// (cn=<session id>) the consumer binds with (RFC 4516).
func (s *Sandbox) LDAP(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("ldap listener: %v", err)
	}
	dir := s.Server.NewLDAP(sdsldap.Config{})
	done := make(chan error, 1)
	go func() { done <- dir.Serve(ln) }()
	t.Cleanup(func() {
		_ = dir.Close()
		if err := <-done; err != nil {
			t.Errorf("ldap serve: %v", err)
		}
	})
	return s.Session.LDAPURL(ln.Addr().String())
}
