package app_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/services/notifications/internal/app"
	"github.com/plateforme-rome/rome/services/notifications/internal/apptest"
)

// fakeTargets stands for the intake and the referential: every request and
// fiche is there, but those hidden; down makes both fail.
type fakeTargets struct {
	mu     sync.Mutex
	hidden []string // request ids and codes ROME not there (or not visible)
	down   error
	tokens []string // the tokens RequestVisible was given
}

func (f *fakeTargets) RequestVisible(_ context.Context, token, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens = append(f.tokens, token)
	return f.answer(id)
}

func (f *fakeTargets) FicheExists(_ context.Context, code string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.answer(code)
}

func (f *fakeTargets) answer(target string) error {
	switch {
	case f.down != nil:
		return f.down
	case slices.Contains(f.hidden, target):
		return app.ErrTargetNotFound
	}
	return nil
}

func TestFollowChecksTheTarget(t *testing.T) {
	t.Parallel()
	targets := &fakeTargets{hidden: []string{"req-other", "A9999"}}
	e := apptest.New(t, sqlite(t), targets)
	ctx := context.Background()
	follows := func() []notifclient.Follow {
		t.Helper()
		list, err := e.App.Follows(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		return list
	}

	f, created, err := e.App.Follow(ctx, "alice", "alice-token", notifclient.Follow{RequestID: "req-1"})
	if err != nil || !created || f.RequestID != "req-1" || f.CreatedAt == nil || !f.CreatedAt.Equal(apptest.Start) {
		t.Fatalf("follow: %+v %v %v", f, created, err)
	}
	if !slices.Equal(targets.tokens, []string{"alice-token"}) {
		t.Fatalf("the intake was asked with %q, want the caller's token", targets.tokens)
	}
	e.Clock.Add(apptest.Lease)
	if again, created, err := e.App.Follow(ctx, "alice", "alice-token", notifclient.Follow{RequestID: "req-1"}); err != nil || created || !again.CreatedAt.Equal(*f.CreatedAt) {
		t.Fatalf("follow again: %+v %v %v", again, created, err)
	}
	if _, _, err := e.App.Follow(ctx, "alice", "alice-token", notifclient.Follow{RequestID: "req-other"}); !errors.Is(err, app.ErrRequestNotVisible) {
		t.Fatalf("a request alice may not see: %v", err)
	}
	if _, _, err := e.App.Follow(ctx, "alice", "alice-token", notifclient.Follow{CodeRome: "A9999"}); !errors.Is(err, app.ErrFicheNotFound) {
		t.Fatalf("a fiche not in the referential: %v", err)
	}
	if _, _, err := e.App.Follow(ctx, "alice", "alice-token", notifclient.Follow{CodeRome: "K2111"}); err != nil {
		t.Fatal(err)
	}

	// The services cannot tell: refused, never recorded unchecked.
	targets.down = errors.New("connection refused")
	if _, _, err := e.App.Follow(ctx, "alice", "alice-token", notifclient.Follow{RequestID: "req-2"}); !errors.Is(err, app.ErrIntakeUnavailable) || !errors.Is(err, targets.down) {
		t.Fatalf("intake down: %v", err)
	}
	if _, _, err := e.App.Follow(ctx, "alice", "alice-token", notifclient.Follow{CodeRome: "M1805"}); !errors.Is(err, app.ErrReferentialUnavailable) {
		t.Fatalf("referential down: %v", err)
	}
	if list := follows(); len(list) != 2 || list[0].RequestID != "req-1" || list[1].CodeRome != "K2111" {
		t.Fatalf("follows: %+v", list)
	}

	// Unfollowing asks no one: one may stop following what one no longer sees.
	asked := len(targets.tokens)
	if err := e.App.Unfollow(ctx, "alice", notifclient.Follow{RequestID: "req-1"}); err != nil {
		t.Fatal(err)
	}
	if err := e.App.Unfollow(ctx, "alice", notifclient.Follow{RequestID: "req-1"}); !errors.Is(err, app.ErrNotFound) {
		t.Fatalf("unfollow again: %v", err)
	}
	if len(targets.tokens) != asked {
		t.Error("unfollow asked the intake")
	}
	if list := follows(); len(list) != 1 || list[0].CodeRome != "K2111" {
		t.Fatalf("follows after unfollowing: %+v", list)
	}
}
