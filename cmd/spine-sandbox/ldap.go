package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"

	"github.com/spine-sandbox/spine-sandbox/internal/runner"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
	"github.com/spine-sandbox/spine-sandbox/mocks/sdsldap"
)

// serveLDAP serves the SDS LDAP directory of every session of srv on addr
// beside the HTTP listener, and prints where; stop closes it (connections
// included) and waits for it. An empty addr serves nothing. With tlsConf
// (serve --tls) it speaks LDAPS and requires a client certificate
// (gpconnect-1.6.md §1.2a: TLS mutual authentication).
// The bound address goes to *bound, for runLDAPAware.
func serveLDAP(srv *sandbox.Server, addr string, bound *string, tlsConf *tls.Config, logger *slog.Logger, stdout io.Writer) (stop func(), err error) {
	if addr == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--ldap-addr: %w", err)
	}
	*bound = ln.Addr().String()
	dir := srv.NewLDAP(sdsldap.Config{Logger: logger, TLS: tlsConf})
	done := make(chan error, 1)
	go func() { done <- dir.Serve(ln) }()
	scheme := "ldap"
	if tlsConf != nil {
		scheme = "ldaps" // serve --tls: a client certificate is required at the handshake
	}
	fmt.Fprintf(stdout, "  SDS LDAP  %s://%s/%s (anonymous: session default; bind as cn=<id> with no password for another)\n", scheme, ln.Addr(), sdsldap.BaseDN)
	return func() {
		_ = dir.Close()
		if err := <-done; err != nil {
			logger.Warn("sdsldap: serve", "err", err)
		}
	}, nil
}

// runLDAPAware is runner.RunSession told where the LDAP directory listens
// (*addr, written before serve accepts its first request), so the live
// diagram's "Run scenario" can run scenarios with run.sds: ldap.
func runLDAPAware(addr *string) func(context.Context, *sandbox.Session) error {
	return func(ctx context.Context, ss *sandbox.Session) error {
		if *addr != "" {
			ctx = runner.WithLDAPAddr(ctx, *addr)
		}
		return runner.RunSession(ctx, ss)
	}
}
