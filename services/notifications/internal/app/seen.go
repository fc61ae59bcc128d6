package app

import (
	"sync"
	"time"

	"github.com/plateforme-rome/rome/services/notifications/internal/store"
)

// touchInterval is how stale a user's "last seen" may be: a person whose token says the
// same as at their last recorded call, less than this ago, is not written again. Without
// it every call (the console reads the unread count on every page) was a database write.
const touchInterval = 5 * time.Minute

// seenUsers remembers, per subject, what was last recorded of a user and when.
type seenUsers struct {
	now func() time.Time
	mu  sync.Mutex
	at  map[string]seenUser
}

type seenUser struct {
	user store.User
	at   time.Time
}

func newSeenUsers(now func() time.Time) *seenUsers {
	return &seenUsers{now: now, at: map[string]seenUser{}}
}

// recent tells whether u was recorded as it is less than touchInterval ago.
func (s *seenUsers) recent(u store.User) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	last, ok := s.at[u.Sub]
	return ok && last.user == u && s.now().Sub(last.at) < touchInterval
}

// remember notes that u was just recorded.
func (s *seenUsers) remember(u store.User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.at[u.Sub] = seenUser{user: u, at: s.now()}
}
