package sandbox

// ExpireIdle runs one pass of the idle janitor now, so tests drive the TTL
// with their clock instead of waiting for a tick.
func (s *Server) ExpireIdle() int { return s.expireIdle() }

// JanitorDone is closed when the janitor goroutine has returned.
func (s *Server) JanitorDone() <-chan struct{} { return s.janitorDone }

// ProxyOwnProvider has the SSP of sessions created from now on forward to
// the sandbox's own provider through ReverseProxy, as it did before its
// direct call (ssp.Local).
func (s *Server) ProxyOwnProvider() { s.proxyOwn = true }
