// Package app holds the notifications service's use cases, one per function:
// notify (who is told, through which channel, at once or in a digest, once
// per key), the inbox, preferences, follows (checked with the services that
// know what they name), the people the service knows, and the outbox's
// deliveries (the e-mails it sends, the Teams notifications the worker
// sends, retries, dead letters, digests). The HTTP handlers (package api) and
// the background loops (package delivery) call it; the store keeps what it
// decides.
package app

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"

	"github.com/plateforme-rome/rome/services/notifications/internal/store"
)

// Errors the use cases answer, besides their own.
var (
	// ErrNotFound: absent, or not the caller's.
	ErrNotFound = store.ErrNotFound
	// ErrNotDead: only a dead letter can be retried.
	ErrNotDead = store.ErrNotDead
	// ErrBadCursor: the cursor was not issued by the listing.
	ErrBadCursor = errors.New("invalid cursor")
)

// Channel tunes the deliveries of one channel.
type Channel struct {
	Retry RetryPolicy
	// Lease is how long a claimer holds the deliveries it claimed before they
	// are handed out again: long enough to send a claim's worth.
	Lease time.Duration
}

// Config is what the use cases need beyond their collaborators.
type Config struct {
	// MessageIDDomain ends the e-mails' Message-IDs (<id@domain>), usually the
	// domain of the sender address.
	MessageIDDomain string
	// PublicURL is the base of the relative links of notifications.
	PublicURL string
	// InboxURL is where a Teams digest, or a notification without a link,
	// leads: absolute, or relative to PublicURL.
	InboxURL string
	Email    Channel
	Teams    Channel
}

// Deps are the service's collaborators.
type Deps struct {
	Store *store.Store
	// Targets tells whether what a follow names is there (required).
	Targets Targets
	// Directory says who notifications reach; nil: the people who have called this service
	// (a stand-alone service; the tests of what predates the directory).
	Directory Directory
	Config    Config
	// Now is the clock; nil is the wall clock.
	Now func() time.Time
	Log *slog.Logger
	// Meter records the service's metrics (see metrics.go); nil is the global meter provider's.
	Meter metric.Meter
}

// Service runs the use cases.
type Service struct {
	store     *store.Store
	targets   Targets
	directory Directory
	cfg       Config
	clock     func() time.Time
	log       *slog.Logger
	meter     metric.Meter
	metrics   *metrics
	seen      *seenUsers
}

// New builds the service and its instruments (ObserveOutbox registers the gauges).
func New(d Deps) (*Service, error) {
	if d.Store == nil || d.Targets == nil || d.Log == nil {
		return nil, errors.New("app: Deps.Store, Targets and Log are required")
	}
	if d.Meter == nil {
		d.Meter = otel.Meter(meterScope)
	}
	m, err := newMetrics(d.Meter)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	clock := d.Now
	if clock == nil {
		clock = time.Now
	}
	s := &Service{store: d.Store, targets: d.Targets, directory: d.Directory, cfg: d.Config, clock: clock, log: d.Log, meter: d.Meter, metrics: m}
	s.seen = newSeenUsers(s.now)
	return s, nil
}

// now is the clock's time in UTC, to the microsecond as PostgreSQL keeps it,
// so that what is answered from memory equals what is read back later (a
// replayed notification, say).
func (s *Service) now() time.Time {
	return s.clock().UTC().Truncate(time.Microsecond)
}

// channel is the configuration of a delivery channel.
func (s *Service) channel(name string) Channel {
	if name == store.ChannelTeams {
		return s.cfg.Teams
	}
	return s.cfg.Email
}
