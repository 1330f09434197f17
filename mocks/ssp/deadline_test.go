package ssp

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestDeadlineLikeWithTimeout: the in-process forward's lazy deadline
// answers Deadline, Done and Err as context.WithTimeout's context does —
// past its time, when its parent ends, and once stopped — whether or not
// anything waited on Done before.
func TestDeadlineLikeWithTimeout(t *testing.T) {
	t.Parallel()
	wait := func(t *testing.T, ctx context.Context) {
		t.Helper()
		select {
		case <-ctx.Done():
		case <-time.After(time.Minute):
			t.Fatal("Done never closed")
		}
	}
	type key struct{}
	parent := context.WithValue(context.Background(), key{}, "v")

	t.Run("running", func(t *testing.T) {
		ctx := newDeadline(parent, time.Hour)
		defer ctx.stop()
		if at, ok := ctx.Deadline(); !ok || time.Until(at) < 59*time.Minute {
			t.Errorf("Deadline = %v, %v; want an hour from now", at, ok)
		}
		if ctx.Err() != nil || ctx.Value(key{}) != "v" {
			t.Errorf("Err %v, Value %v", ctx.Err(), ctx.Value(key{}))
		}
		select {
		case <-ctx.Done():
			t.Error("Done closed an hour early")
		default:
		}
	})
	t.Run("past its time, unwatched", func(t *testing.T) {
		ctx := newDeadline(parent, time.Millisecond)
		defer ctx.stop()
		time.Sleep(5 * time.Millisecond)
		if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			t.Errorf("Err = %v, want DeadlineExceeded", ctx.Err())
		}
		wait(t, ctx)
	})
	t.Run("past its time, watched", func(t *testing.T) {
		ctx := newDeadline(parent, 20*time.Millisecond)
		defer ctx.stop()
		wait(t, ctx)
		if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			t.Errorf("Err = %v, want DeadlineExceeded", ctx.Err())
		}
	})
	t.Run("parent ends", func(t *testing.T) {
		p, cancel := context.WithCancel(parent)
		ctx := newDeadline(p, time.Hour)
		defer ctx.stop()
		cancel()
		if !errors.Is(ctx.Err(), context.Canceled) {
			t.Errorf("Err = %v, want Canceled", ctx.Err())
		}
		wait(t, ctx)
	})
	t.Run("parent's earlier deadline", func(t *testing.T) {
		p, cancel := context.WithTimeout(parent, time.Minute)
		defer cancel()
		ctx := newDeadline(p, time.Hour)
		defer ctx.stop()
		if at, _ := ctx.Deadline(); time.Until(at) > time.Minute {
			t.Errorf("Deadline %v is past the parent's", at)
		}
	})
	t.Run("stopped", func(t *testing.T) {
		for _, watched := range []bool{false, true} {
			ctx := newDeadline(parent, time.Hour)
			if watched {
				_ = ctx.Done()
			}
			ctx.stop()
			if !errors.Is(ctx.Err(), context.Canceled) {
				t.Errorf("watched %v: Err = %v, want Canceled", watched, ctx.Err())
			}
			wait(t, ctx)
		}
	})
}

// newDeadline is a deadline started on its own, as forwardLocal starts
// the one in its exchange.
func newDeadline(parent context.Context, d time.Duration) *deadline {
	c := new(deadline)
	c.start(parent, d)
	return c
}
