package devstack

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// child is a long-running member of the stack (Temporal, a stand-in, a service): how to
// start it, how to know it is ready, and its current process.
type child struct {
	name string
	// start launches a process; restart keeps the log of the previous one.
	start func(restart bool) (*process, error)
	ready func(ctx context.Context, p *process) error

	mu   sync.Mutex
	proc *process // nil until the first start
}

func (c *child) current() *process {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.proc
}

var (
	errStopping = errors.New("the stack is stopping")
	errReplaced = errors.New("restarted by someone else")
)

// replace starts c again in place of old, which has exited, unless the stack is stopping
// or old was replaced already. Under c.mu, so that Stop, which sets stopping before it
// reads c's process, never misses one started here.
func (s *Stack) replace(c *child, old *process) (*process, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case s.stopping.Load():
		return nil, errStopping
	case c.proc != old:
		return nil, errReplaced
	case !old.exited():
		return nil, fmt.Errorf("%s is still running", c.name)
	}
	p, err := c.start(true)
	if err != nil {
		return nil, err
	}
	c.proc = p
	return p, nil
}

// backoff spaces the restarts of a child that keeps crashing.
type backoff struct {
	initial    time.Duration // before the first restart
	max        time.Duration // the delay doubles up to this
	resetAfter time.Duration // a child up this long is healthy again: the next crash starts over
	// keepsCrashing is how many crashes in a row make devstack say the child keeps crashing.
	keepsCrashing int
}

var defaultBackoff = backoff{initial: time.Second, max: 30 * time.Second, resetAfter: time.Minute, keepsCrashing: 3}

// crashes counts a child's crashes in a row and the delay before its next restart.
type crashes struct {
	inARow int
	delay  time.Duration
}

// crashed records a crash after uptime and returns the delay before the next restart.
func (b backoff) crashed(c *crashes, uptime time.Duration) time.Duration {
	if c.inARow == 0 || uptime >= b.resetAfter {
		c.inARow, c.delay = 1, b.initial
		return c.delay
	}
	c.inARow++
	c.delay = min(c.delay*2, b.max)
	return c.delay
}

// supervise restarts c whenever p, its ready process, exits on its own, with backoff,
// until the stack stops, or the process is killed on purpose (Kill), or replaced (Restart).
func (s *Stack) supervise(c *child, p *process) {
	s.supervisors.Go(func() {
		var history crashes
		for {
			<-p.done
			if s.stopping.Load() || p.killed.Load() {
				return
			}
			delay := s.backoff.crashed(&history, p.uptime)
			s.logf("%v", p.failure(fmt.Sprintf("exited after %s", p.uptime.Round(time.Millisecond))))
			for {
				if history.inARow >= s.backoff.keepsCrashing {
					s.logf("%s keeps crashing (%d times in a row): devstack keeps restarting it, at most %s apart; its log: %s",
						c.name, history.inARow, s.backoff.max, p.logPath)
				}
				s.logf("restarting %s in %s", c.name, delay)
				select {
				case <-time.After(delay):
				case <-s.ctx.Done():
					return
				}
				if p.killed.Load() { // killed on purpose while it was down: Restart brings it back
					return
				}
				next, err := s.replace(c, p)
				if errors.Is(err, errStopping) || errors.Is(err, errReplaced) {
					return
				}
				if err == nil {
					p = next
					break
				}
				s.logf("%s did not start: %v", c.name, err)
				delay = s.backoff.crashed(&history, 0)
			}
			ctx, cancel := context.WithTimeout(s.ctx, s.Options.ReadyTimeout)
			err := c.ready(ctx, p)
			cancel()
			switch {
			case err == nil:
				s.logf("%s is up again", c.name)
			case !p.exited() && s.ctx.Err() == nil:
				s.logf("%s restarted but is not ready: %v", c.name, err)
			}
			// An exit during its start is a crash like any other: the loop waits on it.
		}
	})
}
