package api

import (
	"testing"
	"time"

	"github.com/plateforme-rome/rome/services/notifications/internal/store"
)

func TestSeenUsersWriteOnlyWhatChangedOrGrewStale(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	s := newSeenUsers(func() time.Time { return now })
	alice := store.User{Sub: "alice", Name: "Alice Martin", Role: "partner", Org: "opco-2i"}
	if s.recent(alice) {
		t.Fatal("a user never recorded is recent")
	}
	s.remember(alice)
	now = now.Add(touchInterval - time.Second)
	if !s.recent(alice) {
		t.Fatal("the same user within the interval is written again")
	}
	renamed := alice
	renamed.Name = "Alice Dupont"
	if s.recent(renamed) {
		t.Fatal("a change of the token's claims is not written")
	}
	now = now.Add(2 * time.Second)
	if s.recent(alice) {
		t.Fatal("last seen is never refreshed")
	}
}
