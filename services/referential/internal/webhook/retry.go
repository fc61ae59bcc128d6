package webhook

import "time"

// Schedule is when a failing endpoint is tried again, and when its attempts stop.
type Schedule struct {
	First time.Duration // wait after the first failure
	Max   time.Duration // the wait doubles up to this
	// Span is how long an endpoint may keep failing before the delivery it is stuck on
	// becomes a dead letter (and the ones after it, at their first failure). It is longer
	// than a day: an endpoint down for a day loses nothing.
	Span time.Duration
}

// DefaultSchedule waits 5 s, 10 s, 20 s… up to an hour between attempts, for two days.
var DefaultSchedule = Schedule{First: 5 * time.Second, Max: time.Hour, Span: 48 * time.Hour}

// Delay is the wait after the failures-th consecutive failure (1 = the first), scaled by a
// jitter in [0.8, 1.2) drawn from r in [0, 1), so that endpoints failing together do not
// come back together.
func (s Schedule) Delay(failures int, r float64) time.Duration {
	d := s.First
	for i := 1; i < failures && d < s.Max; i++ {
		d *= 2
	}
	d = min(d, s.Max)
	return time.Duration(float64(d) * (0.8 + 0.4*r))
}
