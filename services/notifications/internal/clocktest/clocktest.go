// Package clocktest is a clock that tests move by hand: Now stays where it is
// until Add moves it, and the channels After returns fire when Add reaches
// their time. The app reads it (app.Deps.Now) and the delivery loops wait on
// it (delivery.Clock), so tests of leases, backoffs and digests run without
// sleeping.
package clocktest

import (
	"sync"
	"testing"
	"time"
)

// Clock is a fake clock, safe for concurrent use.
type Clock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
	changed chan struct{} // closed, then replaced, whenever waiters changes
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

// New is a clock showing t.
func New(t time.Time) *Clock {
	return &Clock{now: t, changed: make(chan struct{})}
}

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Add moves the clock d forward and fires the waiters it reaches.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(c.now) {
			kept = append(kept, w)
			continue
		}
		w.ch <- c.now
	}
	c.waiters = kept
	c.notify()
}

// After fires once the clock has moved d forward (at once when d <= 0).
func (c *Clock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, waiter{at: c.now.Add(d), ch: ch})
	c.notify()
	return ch
}

func (c *Clock) notify() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// maxWait bounds WaitForWaiters: a loop that never waits again is a bug the
// test reports rather than hangs on.
const maxWait = 10 * time.Second

// WaitForWaiters blocks until n goroutines wait on After: the loops under
// test have finished what the last Add started and are idle again.
func (c *Clock) WaitForWaiters(t testing.TB, n int) {
	t.Helper()
	timeout := time.After(maxWait)
	for {
		c.mu.Lock()
		got, changed := len(c.waiters), c.changed
		c.mu.Unlock()
		if got == n {
			return
		}
		select {
		case <-changed:
		case <-timeout:
			t.Fatalf("clocktest: %d goroutines wait on the clock after %v, want %d", got, maxWait, n)
		}
	}
}
