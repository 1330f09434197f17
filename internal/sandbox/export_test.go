package sandbox

// ExpireIdle runs one pass of the idle janitor now, so tests drive the TTL
// with their clock instead of waiting for a tick.
func (s *Server) ExpireIdle() int { return s.expireIdle() }

// JanitorDone is closed when the janitor goroutine has returned.
func (s *Server) JanitorDone() <-chan struct{} { return s.janitorDone }
