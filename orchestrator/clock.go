package orchestrator

import (
	"context"
	"sync"
	"time"
)

// Clock is the orchestrator's source of time: budgets, deadlines and the
// pauses between probe rounds all go through it, so unit tests can run the
// pipeline on virtual time instead of waiting on real budgets.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// After returns a channel that receives the time once d has passed.
	After(d time.Duration) <-chan time.Time
}

// RealClock is the wall clock.
type RealClock struct{}

// Now implements Clock.
func (RealClock) Now() time.Time { return time.Now() }

// After implements Clock.
func (RealClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// sleep waits d on c, or returns ctx's error when ctx ends first.
func sleep(ctx context.Context, c Clock, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-c.After(d):
		return nil
	}
}

// VirtualClock is a Clock whose time only moves when something waits on it:
// After(d) advances it by d at once. A pipeline on a VirtualClock runs its
// budgets and pauses without waiting (the simulated executor of --dry-run
// and the unit tests use it); its durations are those the pipeline asked
// for, not wall time. Safe for concurrent use.
type VirtualClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewVirtualClock returns a VirtualClock that starts at start.
func NewVirtualClock(start time.Time) *VirtualClock {
	return &VirtualClock{now: start}
}

// Now implements Clock.
func (c *VirtualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After implements Clock: it advances the clock by d and returns a channel
// that is ready at once.
func (c *VirtualClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	if d > 0 {
		c.now = c.now.Add(d)
	}
	now := c.now
	c.mu.Unlock()
	ch := make(chan time.Time, 1)
	ch <- now
	return ch
}

// Advance moves the clock forward by d (a test's stand-in for time spent
// inside an exec).
func (c *VirtualClock) Advance(d time.Duration) { <-c.After(d) }
