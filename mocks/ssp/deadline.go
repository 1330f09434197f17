package ssp

import (
	"context"
	"sync"
	"time"
)

// deadline is context.WithTimeout for a forward served in process
// (forwardLocal), with its timer started only when something waits on
// Done. The sandbox's provider answers a request in process without
// waiting on anything, unless a fault delays it (and that waits on Done):
// a timer set and stopped for every other request was a tenth of the SSP's
// own work. Deadline and Err answer as WithTimeout's context would.
type deadline struct {
	parent context.Context
	at     time.Time

	mu      sync.Mutex
	timed   context.Context // context.WithDeadline(parent, at), once Done is called
	cancel  context.CancelFunc
	stopped bool
}

// start makes the zero c a context that ends d from now or with parent.
func (c *deadline) start(parent context.Context, d time.Duration) {
	c.parent, c.at = parent, time.Now().Add(d)
}

func (c *deadline) Deadline() (time.Time, bool) {
	if p, ok := c.parent.Deadline(); ok && p.Before(c.at) {
		return p, true
	}
	return c.at, true
}

func (c *deadline) Value(key any) any {
	if _, ok := key.(localKey); ok {
		return true
	}
	return c.parent.Value(key)
}

// localKey marks the context of a request forwardLocal sends.
type localKey struct{}

// ForwardedLocally reports whether ctx is that of a request the SSP sent
// to a Local transport itself (not through ReverseProxy): the SSP changes
// neither that request's headers nor its answer's once it has sent it, so
// the transport may let whoever records them keep the maps as they are.
func ForwardedLocally(ctx context.Context) bool { return ctx.Value(localKey{}) != nil }

func (c *deadline) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.timed == nil {
		c.timed, c.cancel = context.WithDeadline(c.parent, c.at)
		if c.stopped {
			c.cancel()
		}
	}
	return c.timed.Done()
}

func (c *deadline) Err() error {
	c.mu.Lock()
	timed, stopped := c.timed, c.stopped
	c.mu.Unlock()
	switch {
	case timed != nil:
		return timed.Err()
	case c.parent.Err() != nil:
		return c.parent.Err()
	case !time.Now().Before(c.at):
		return context.DeadlineExceeded
	case stopped:
		return context.Canceled
	}
	return nil
}

// stop is WithTimeout's cancel: it releases the timer, if one was started,
// and the context is done.
func (c *deadline) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopped = true
	if c.cancel != nil {
		c.cancel()
	}
}
