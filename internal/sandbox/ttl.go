package sandbox

import (
	"time"
)

// A session unused for Limits.SessionTTL is removed by the server's
// janitor (the default session is reset instead, as DeleteSession does),
// so sessions that CI jobs forget to delete do not pile up to the cap.
// "Used" is any request to the session's services or to its admin
// resources; the mark is one atomic store, cheap on the hot path.

// touch marks ss as used now.
func (s *Server) touch(ss *Session) {
	ss.lastUsed.Store(s.cfg.Clock().UnixNano())
}

// LastUsed is when the session last served a request (or was created).
func (ss *Session) LastUsed() time.Time {
	return time.Unix(0, ss.lastUsed.Load())
}

// Expires is when the session will be removed (reset, for the default
// session) if it is not used before.
func (ss *Session) Expires() time.Time {
	return ss.LastUsed().Add(ss.ttl)
}

// janitorTick is how often the janitor looks: a tenth of the TTL, so a
// session outlives its TTL by at most a tenth, within [1s, 1m] so a short
// TTL does not spin and a long one is still honoured within a minute.
func janitorTick(ttl time.Duration) time.Duration {
	return min(max(ttl/10, time.Second), time.Minute)
}

// janitor removes idle sessions on each tick until the server is closed.
// The Server owns it: New starts it, Close stops it and waits.
func (s *Server) janitor(tick *time.Ticker) {
	defer close(s.janitorDone)
	defer tick.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-tick.C:
			s.expireIdle()
		}
	}
}

// expireIdle removes every session idle for longer than its TTL at the
// server clock's now and returns how many it removed or reset.
func (s *Server) expireIdle() int {
	now := s.cfg.Clock()
	idle := func(ss *Session) bool { return now.After(ss.Expires()) }
	var ids []string
	s.mu.RLock()
	for id, ss := range s.sessions {
		if idle(ss) {
			ids = append(ids, id)
		}
	}
	s.mu.RUnlock()
	n := 0
	for _, id := range ids {
		// Checked again under the write lock: a request may have used
		// the session since.
		if s.removeSession(id, idle) {
			n++
			s.cfg.Logger.Info("removed an idle session", "session", id)
		}
	}
	return n
}
