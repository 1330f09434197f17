package sandbox

import (
	"net"

	"github.com/spine-sandbox/spine-sandbox/mocks/sdsldap"
)

// ServeLDAP serves s's SDS LDAP directory (NewLDAP with its defaults) on ln
// in a goroutine of its own, for callers outside internal/sandbox that may
// not import mocks/* (the runner). stop closes the directory, waits for it
// and returns what serving it returned.
func (s *Server) ServeLDAP(ln net.Listener) (stop func() error) {
	dir := s.NewLDAP(sdsldap.Config{})
	done := make(chan error, 1)
	go func() { done <- dir.Serve(ln) }()
	return func() error {
		_ = dir.Close()
		return <-done
	}
}
