package runner

import (
	"context"
	"errors"
	"net"

	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
)

// ldapAddrKey carries the address of the sandbox's SDS LDAP directory to
// the runs that use it (run.sds: ldap).
type ldapAddrKey struct{}

// WithLDAPAddr tells runs under ctx where the sandbox's SDS LDAP directory
// listens, so a scenario with run.sds: ldap can use it.
func WithLDAPAddr(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, ldapAddrKey{}, addr)
}

// ldapSDS points the built-in consumer's SDS at the session's LDAP
// directory when the scenario's run asks for it (run.sds: ldap); the FHIR
// SDS otherwise.
func ldapSDS(ctx context.Context, ss *sandbox.Session, r *scenario.Run, u *sandbox.URLs) error {
	if r.SDS != "ldap" {
		return nil
	}
	addr, _ := ctx.Value(ldapAddrKey{}).(string)
	if addr == "" {
		return errors.New("run.sds: ldap needs the sandbox's SDS LDAP directory, and this sandbox serves none (serve --ldap-addr)")
	}
	u.SDS = ss.LDAPURL(addr)
	return nil
}

// startLDAP serves srv's SDS LDAP directory on 127.0.0.1 (any port) beside
// the runner's in-process HTTP sandbox; stop closes it and waits for it.
func startLDAP(srv *sandbox.Server) (addr string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	stopLDAP := srv.ServeLDAP(ln)
	return ln.Addr().String(), func() { _ = stopLDAP() }, nil
}
